"""Masking of secrets customers type into a chat.

Card numbers (only when the Luhn check passes, so order and ticket numbers
stay readable), IBANs, and passwords or one-time codes introduced by a
keyword are replaced before anything is stored, posted or shown.
"""

from __future__ import annotations

import re

__all__ = ["luhn_valid", "mask_secrets", "mask_card_number"]

# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\dA-Za-z])(?:\d[ -]?){12,18}\d(?![\dA-Za-z])")
# Country code, two check digits, then 11-30 alphanumerics in optional groups.
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_SECRET_WORDS = (
    r"şifre(?:m|mi|miz)?|sifre(?:m|mi)?|parola(?:m|mı|mi)?|password|passwd|pwd|pass|"
    r"kod(?:u|um|umu)?|code|otp|pin|sms kodu|doğrulama kodu|dogrulama kodu|"
    r"verification code|one[- ]time code|cvv|cvc"
)
# The keyword is a whole word (a digit may follow it: "kodum123456"), so
# "kodunuzu", "şifrenizi" or "passport" are words, not keywords.
_SECRET_RE = re.compile(
    rf"(?P<word>\b(?:{_SECRET_WORDS})(?![^\W\d_]))(?P<sep>\s*(?:is|=|:|şu|su|da|de|olarak)?\s*[:=]?\s*)"
    r"(?P<value>[^\s,;]{3,64})",
    re.IGNORECASE,
)
# Words that can follow a secret keyword without being the secret itself.
_NOT_SECRETS = {
    "gelmedi",
    "gelmiyor",
    "yok",
    "çalışmıyor",
    "calismiyor",
    "hatalı",
    "hatali",
    "yanlış",
    "yanlis",
    "unuttum",
    "sıfırlama",
    "sifirlama",
    "reset",
    "not",
    "doesn't",
    "doesnt",
    "isn't",
    "is",
    "was",
    "didn't",
    "never",
    "arrive",
    "arriving",
    "does",
    "kodu",
    "kodum",
    "gelmiyo",
    "geldi",
    "nasıl",
    "nasil",
    "değiştirmek",
    "degistirmek",
    "change",
    "forgot",
    "for",
    "the",
    "my",
    "and",
    "istiyorum",
    "lazım",
    "lazim",
    "ile",
    "için",
    "icin",
    "expired",
    "wrong",
}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_card_number(digits: str) -> str:
    """Keep the last four digits, the way receipts do."""
    return "**** **** **** " + digits[-4:]


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return mask_card_number(digits)
    return match.group(0)


def _mask_iban(match: re.Match[str]) -> str:
    compact = match.group(0).replace(" ", "").upper()
    if not _iban_valid(compact):
        return match.group(0)
    return f"{compact[:4]} **** **** {compact[-4:]}"


def _iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check, so ordinary words are never taken for IBANs."""
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _mask_secret(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.lower().strip(".!?") in _NOT_SECRETS or "*" in value:
        return match.group(0)
    return f"{match.group('word')}{match.group('sep')}******"


def mask_secrets(text: str) -> str:
    """Return ``text`` with card numbers, IBANs, passwords and codes masked."""
    if not text:
        return text
    masked = _IBAN_RE.sub(_mask_iban, text)
    masked = _CARD_RE.sub(_mask_card, masked)
    return _SECRET_RE.sub(_mask_secret, masked)
