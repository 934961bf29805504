"""Inflected forms of the catalogue's words, as customers write them.

Matched the way triage does (support_rules/triage.py): ``answer=False`` for a
value inside a longer message, ``answer=True`` for a bare answer to the bot's
question.
"""

from pathlib import Path

import pytest

from support_rules.catalogue import load_catalogue
from support_rules.inflection import Lexicon

ROOT = Path(__file__).resolve().parents[2]

CATALOGUE = load_catalogue(ROOT / "data" / "catalogue.yml")

TRANSACTION_TYPES = [
    # possessive + accusative, possessive + ablative
    ("bonusumu alamadım", "bonus"),
    ("çekimimi iptal edin lütfen", "withdrawal"),
    ("yatırımımdan haber alamadım", "deposit"),
    # participles and other verb forms of the root under "çekim", "yatırım"
    ("dün çektiğim para hâlâ gelmedi", "withdrawal"),
    ("yatırdığım para görünmüyor", "deposit"),
    ("yatırmadığım bir tutar görünüyor", "deposit"),
    ("yatırmak istediğim tutar", "deposit"),
    ("havalemle yatırdım", "deposit"),
    ("paramı çekemiyorum", "withdrawal"),
    ("para çektikten sonra hesap kapandı", "withdrawal"),
    ("paramı yatırdım ama görünmüyor", "deposit"),
    # plural, possessive, case on nouns
    ("bahsimi kontrol eder misiniz", "bet"),
    ("bahse girdim sonuç gelmedi", "bet"),
    ("kuponlarım kayboldu", "bet"),
    ("kuponumu göremiyorum", "bet"),
    ("oyunumda sorun var", "bet"),
    ("iademi ne zaman alırım", "refund"),
    ("iadeyi bekliyorum", "refund"),
    ("para iademi istiyorum", "refund"),
    ("geri ödememi alamadım", "refund"),
    ("promosyonumu kullanamıyorum", "bonus"),
    ("kampanyadan yararlanamadım", "bonus"),
    ("freebetimi göremiyorum", "bonus"),
    ("bonusları nasıl kullanırım", "bonus"),
    ("bonusunuz yüklenmedi diyor", "bonus"),
    ("transferim gerçekleşmedi", "transfer"),
    ("virmanımı kontrol edin", "transfer"),
    ("hesaplar arası transferimi göremiyorum", "transfer"),
    ("çekimlerim onaylanmadı", "withdrawal"),
    ("çekimim reddedildi", "withdrawal"),
    ("Papara'ya çekim yaptım", "withdrawal"),
    ("kredi kartımla yatırım yaptım", "deposit"),
    ("yatırımlarım gözükmüyor", "deposit"),
    # English plurals, -ed, -ing (with a doubled consonant: "betting")
    ("my withdrawals are stuck", "withdrawal"),
    ("I was withdrawing money", "withdrawal"),
    ("depositing failed twice", "deposit"),
    ("I deposited yesterday", "deposit"),
    ("two deposits are missing", "deposit"),
    ("my bets were not settled", "bet"),
    ("betting slips are wrong", "bet"),
    ("wagers are missing", "bet"),
    ("refunds take long", "refund"),
    ("I was refunded only half", "refund"),
    ("transfers between accounts", "transfer"),
    ("transferred funds disappeared", "transfer"),
    ("bonuses were removed", "bonus"),
    ("payouts are late", "withdrawal"),
    ("topped up my account", "deposit"),
]

TOPICS = [
    ("bonusumu alamadım", "promotion"),
    ("çekimimi iptal edin lütfen", "withdrawal"),
    ("yatırımımdan haber alamadım", "deposit"),
    ("şifremi sıfırladım ama giremiyorum", "password"),
    ("şifremi unutmuşum", "password"),
    ("parolamı hatırlamıyorum", "password"),
    ("hesabıma giremiyorum", "login"),
    ("girişte sorun yaşıyorum", "login"),
    ("kimliğimi doğrulayamıyorum", "verification"),
    ("belgelerimi yükledim", "verification"),
    ("evraklarım onaylanmadı", "verification"),
    ("hesabım kilitlenmiş", "account_locked"),
    ("hesabımı kapatmak istiyorum", "account_closure"),
    ("hesabımı silmenizi istiyorum", "account_closure"),
    ("üyeliğimi iptal edin", "account_closure"),
    ("telefon numaramı değiştirmek istiyorum", "contact_details"),
    ("mail adresimi güncellemek istiyorum", "contact_details"),
    ("uygulamanız sürekli donuyor", "app"),
    ("tarayıcımda site açılmıyor", "app"),
    ("uygulamada hata alıyorum", "app"),
    ("bonuslarım silindi", "promotion"),
    ("kampanyanızdan yararlanamadım", "promotion"),
    ("çevrimimi tamamladım", "promotion"),
    ("kuponumun sonucu yanlış", "bet_settlement"),
    ("bahsim yanlış sonuçlanmış", "bet_settlement"),
    ("bahsin sonucu nerede", "bet_settlement"),
    ("bakiyeme yansımadı", "deposit"),
    ("para yatırdım bakiyeme yansımıyor", "deposit"),
    ("yatırdığım para görünmüyor", "deposit"),
    ("çekim talebim onaylanmadı", "withdrawal"),
    ("ödemem gelmedi", "withdrawal"),
    ("paramı çekemiyorum", "withdrawal"),
    # a longer inflected phrase wins over a shorter plain one inside it
    ("yatırım limitimi düşürmek istiyorum", "responsible_gaming"),
    ("kendimi dışlamak istiyorum", "responsible_gaming"),
    ("limitlerimi değiştirmek istiyorum", "responsible_gaming"),
    ("doğrulama kodumu alamıyorum", "two_factor"),
    ("sms kodum gelmiyor", "two_factor"),
    ("ödeme yöntemimi değiştirmek istiyorum", "payment_methods"),
    ("kredi kartımla yatırım yaptım", "payment_methods"),
    ("EFT'mi göremiyorum", "payment_methods"),
    ("my passwords don't work", "password"),
    ("logging in fails", "login"),
    ("signing in is impossible", "login"),
    ("it keeps crashing", "app"),
    ("blocked accounts", "account_locked"),
    ("deposit limits", "responsible_gaming"),
]

# Bare answers to "which transaction?" / "what is it about?".
BARE_ANSWERS = [
    ("bonusumu", "transaction_type", "bonus"),
    ("çekimimi", "transaction_type", "withdrawal"),
    ("çektiğim", "transaction_type", "withdrawal"),
    ("yatırımımdan", "transaction_type", "deposit"),
    ("yatırdığım", "transaction_type", "deposit"),
    ("kuponum", "transaction_type", "bet"),
    ("iadem", "transaction_type", "refund"),
    ("withdrawals", "transaction_type", "withdrawal"),
    ("depositing", "transaction_type", "deposit"),
    ("şifremi", "topic", "password"),
    ("belgelerimi", "topic", "verification"),
    ("çekimlerim", "topic", "withdrawal"),
]

NOTHING = [
    "hesabımda hiç para yok",
    "param var mı",
    "paranın hepsi orada",
    "bugün hava çok güzel",
    "benim adım Mehmet",
    "bunu anlamadım",
    "ben bunu bilmiyorum",
    "tamam teşekkür ederim",
    "siz beni aradınız",
    "hala bekliyorum",
    "size geri dönülecek mi",
    "arkadaşım geldi",
    "kararımı verdim",
    "sonra ararım",
    "I feel better now",
    "thanks a lot",
]


def test_the_table_is_large_enough() -> None:
    assert len(TRANSACTION_TYPES) + len(TOPICS) + len(BARE_ANSWERS) >= 60
    assert len(NOTHING) >= 10


@pytest.mark.parametrize("text,expected", TRANSACTION_TYPES)
def test_inflected_transaction_types_inside_sentences(text: str, expected: str) -> None:
    match = CATALOGUE.match_transaction_type(text, answer=False)
    assert match is not None and match.entry.id == expected, match


@pytest.mark.parametrize("text,expected", TOPICS)
def test_inflected_topics_inside_sentences(text: str, expected: str) -> None:
    match = CATALOGUE.match_topic(text, answer=False)
    assert match is not None and match.entry.id == expected, match


@pytest.mark.parametrize("text,slot,expected", BARE_ANSWERS)
def test_inflected_bare_answers(text: str, slot: str, expected: str) -> None:
    matcher = CATALOGUE.match_topic if slot == "topic" else CATALOGUE.match_transaction_type
    match = matcher(text, answer=True)
    assert match is not None and match.entry.id == expected, match


@pytest.mark.parametrize("text", NOTHING)
def test_ordinary_sentences_match_nothing(text: str) -> None:
    assert CATALOGUE.match_topic(text, answer=False) is None
    assert CATALOGUE.match_transaction_type(text, answer=False) is None


@pytest.mark.parametrize("text", ["para", "ben", "bunu", "paramı", "çek", "yatır"])
def test_ordinary_words_are_no_answer(text: str) -> None:
    assert CATALOGUE.match_topic(text) is None
    assert CATALOGUE.match_transaction_type(text) is None


def test_ask_only_entries_are_not_inflected() -> None:
    assert CATALOGUE.match_transaction_type("yok").entry.id == "none"
    assert CATALOGUE.match_transaction_type("yoktu") is None
    assert CATALOGUE.match_transaction_type("hesabımda para yoktu", answer=False) is None
    assert CATALOGUE.match_topic("diğerlerini sordum", answer=False) is None


def test_a_plain_phrase_beats_its_inflected_twin() -> None:
    plain = CATALOGUE.match_transaction_type("bonus")
    inflected = CATALOGUE.match_transaction_type("bonusumu")
    assert plain is not None and inflected is not None
    assert plain.score > inflected.score


@pytest.mark.parametrize(
    "phrase,token,expected",
    [
        ("cekim", "cektigim", True),  # verb root under -im, participle
        ("cekim", "cekimimi", True),
        ("cekim", "cek", False),  # a bare verb root is not enough
        ("yatirma", "yatirdim", True),
        ("kimlik", "kimligimi", True),  # k -> ğ before a vowel
        ("hesabim kilitlendi", "hesaplarim", True),  # the root under "hesabım"
        ("bahis", "bahsi", True),  # the dropped vowel
        ("eft", "eft'mi", True),  # suffixes after an apostrophe
        ("bonus", "bonusxyz", False),  # not a suffix chain
        ("para", "parti", False),
    ],
)
def test_turkish_forms(phrase: str, token: str, expected: bool) -> None:
    words = Lexicon([(phrase, "tr")]).words_of(token)
    assert bool(words) is expected, words


def test_a_conjugated_verb_keeps_its_polarity_and_is_inflected_only_in_a_phrase() -> None:
    lexicon = Lexicon([("odeme gelmedi", "tr")])
    assert lexicon.words_of("gelmiyor") == {"gelmedi"}
    assert lexicon.words_of("gelmemis") == {"gelmedi"}
    assert lexicon.words_of("geldi") == set()
    assert Lexicon([("donuyor", "tr")]).words_of("donulecek") == set()


def test_each_language_gets_its_own_endings() -> None:
    english = Lexicon([("bet", "en"), ("app", "en")])
    assert english.words_of("betting") == {"bet"}
    assert english.words_of("bets") == {"bet"}
    assert english.words_of("better") == set()
    assert english.words_of("apple") == set()  # not "app" + Turkish -le
    assert Lexicon([("kupon", "tr")]).words_of("kupons") == set()
