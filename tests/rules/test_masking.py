import pytest

from support_rules.masking import luhn_valid, mask_secrets


@pytest.mark.parametrize("number", ["4111111111111111", "5500005555555559", "378282246310005", "6011111111111117"])
def test_luhn_accepts_real_card_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567812345678", "12ab"])
def test_luhn_refuses_others(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize(
    "text,hidden,kept",
    [
        ("kartım 4111 1111 1111 1111 ile yatırdım", "4111 1111 1111 1111", "**** **** **** 1111"),
        ("card 5500-0055-5555-5559 was charged", "5500-0055-5555-5559", "**** **** **** 5559"),
        ("4111111111111111", "4111111111111111", "**** **** **** 1111"),
        ("IBAN: TR33 0006 1005 1978 6457 8413 26 gönder", "0006 1005 1978", "TR33 **** **** 1326"),
        ("iban TR330006100519786457841326", "0006100519786457841326", "TR33 **** **** 1326"),
        ("my IBAN is GB82 WEST 1234 5698 7654 32", "WEST 1234", "GB82 **** **** 5432"),
        ("şifrem: Abc12345 ama giremiyorum", "Abc12345", "şifrem:"),
        ("my password is hunter22", "hunter22", "my password is"),
        ("sms kodu 483920", "483920", "sms kodu"),
        ("my code is 123456", "123456", "my code is"),
        ("kodum483920", "483920", "kodum"),
        # the forms the security review found unmasked (issue 16, finding 8)
        ("kart 4111.1111.1111.1111 ile", "4111.1111.1111", "**** **** **** 1111"),
        ("kart  4111  1111  1111  1111", "4111  1111", "**** **** **** 1111"),
        ("kartno4111111111111111", "4111111111111111", "kartno**** **** **** 1111"),
        ("IBAN TR33-0006-1005-1978-6457-8413-26", "0006-1005", "TR33 **** **** 1326"),
        ("iban: tr33.0006.1005.1978.6457.8413.26", "0006.1005", "TR33 **** **** 1326"),
        ("ibanTR330006100519786457841326", "0006100519786457841326", "TR33 **** **** 1326"),
        ("CVV2 123", "123", "CVV2 ******"),
        ("kartın arkasındaki cvc2: 987", "987", "cvc2: ******"),
        ("PIN kodum 1234", "1234", "PIN kodum ******"),
        ("sms kodu 483 920 geldi", "483 920", "sms kodu ****** geldi"),
        ("12.11.2026 tarihinde 4111 1111 1111 1111 ile", "4111 1111 1111", "12.11.2026 tarihinde"),
        ("card 3530111333300000 exp 1/28", "1/28", "exp **/**"),
        ("SKT: 11/29 CVV:123", "11/29", "SKT: **/** CVV:******"),
        ("IBAN'ım DE89 3704 0044 0532 0130 00", "3704 0044", "DE89 **** **** 3000"),
        ("my otp is 8 4 2 1 9 3", "8 4 2 1 9 3", "my otp is ******"),
        ("password:correcthorse", "correcthorse", "password:******"),
    ],
)
def test_secrets_are_masked(text: str, hidden: str, kept: str) -> None:
    masked = mask_secrets(text)
    assert hidden not in masked
    assert kept in masked


@pytest.mark.parametrize(
    "text",
    [
        "order 4111-1111-1111-11 ok",  # too short for a card
        "sipariş no 1234567890123456",  # no issuer's prefix, no Luhn, not grouped like a card
        "hata kodu 500 aldım",
        "12.11.2026 14:30'da şifremi değiştirdim",
        "şifremi 2024'te değiştirdim",
        "kodu 0532 123 45 67 numarama gönderin",
        # what agents write
        "Lütfen kart numaranızı veya CVV kodunuzu paylaşmayın",
        "Please never share your PIN or password with anyone",
        "Your code expires in 5 minutes",
        "Şifreniz en az 8 karakter olmalı",
        "Müşteri hizmetleri 0850 123 45 67",
        "Transaction ID 20261120123456789",
        "ödeme 1234 5678 9012 numaralı işlemde",
        "Error code 0x80070005 on login",
        "T-000123 ne durumda",
        "telefonum 05321234567",
        "sms kodu gelmedi",
        "şifremi unuttum",
        "my password reset link does not arrive",
        "TR33 is my favourite word",  # not a valid IBAN
        "500 TL yatırdım",
        # words that begin like a keyword, as agents and customers write them
        "Doğrulama kodunuzu SMS ile gönderdik",
        "Yeni şifrenizi belirleyip tekrar deneyin",
        "Please upload a photo of your passport",
        "the pincode field is empty",
        "Kodunuz gelmediyse tekrar isteyebilirsiniz",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_secrets(text) == text


def test_a_mistyped_card_number_after_a_card_word_is_masked_anyway() -> None:
    """Luhn fails on a mistyped digit, but the rest of the number would leak."""
    assert mask_secrets("card 4111-1111-1111-1112 ok") == "card **** **** **** 1112 ok"


def test_masking_twice_changes_nothing() -> None:
    once = mask_secrets("kart 4111 1111 1111 1111, IBAN TR33 0006 1005 1978 6457 8413 26, şifrem: Abc123")
    assert mask_secrets(once) == once
