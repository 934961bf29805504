from pathlib import Path

import pytest

from support_rules.catalogue import Catalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[2]

CATALOGUE = load_catalogue(ROOT / "data" / "catalogue.yml")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("para çekme", "withdrawal"),
        ("para cekme", "withdrawal"),
        ("Para Çekme", "withdrawal"),
        ("withdrawl", "withdrawal"),
        ("withdrawal", "withdrawal"),
        ("cash out", "withdrawal"),
        ("para yatirma", "deposit"),
        ("paar yatırma", "deposit"),
        ("depozit", "deposit"),
        ("deposit", "deposit"),
        ("bahis", "bet"),
        ("wager", "bet"),
        ("bonus", "bonus"),
        ("iade", "refund"),
        ("refund", "refund"),
        ("işlem yok", "none"),
        ("yok", "none"),
        ("no transaction", "none"),
    ],
)
def test_transaction_types_with_typos_and_without_turkish_letters(text: str, expected: str) -> None:
    match = CATALOGUE.match_transaction_type(text)
    assert match is not None and match.entry.id == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("giriş yapamıyorum", "login"),
        ("giris yapamiyorum", "login"),
        ("i cant log in", "login"),
        ("şifre", "password"),
        ("sifre", "password"),
        ("forgot password", "password"),
        ("hesabim kilitlendi", "account_locked"),
        ("kimlik dogrulama", "verification"),
        ("uygulama", "app"),
        ("para cekme", "withdrawal"),
        ("bonus", "promotion"),
        ("diger", "other"),
        ("something else", "other"),
    ],
)
def test_topics(text: str, expected: str) -> None:
    match = CATALOGUE.match_topic(text)
    assert match is not None and match.entry.id == expected


@pytest.mark.parametrize("text", ["evet", "merhaba", "ayse_k", "12.11.2026", "asdfgh"])
def test_unrelated_words_match_nothing(text: str) -> None:
    assert CATALOGUE.match_topic(text) is None
    assert CATALOGUE.match_transaction_type(text) is None


def test_ask_only_entries_are_not_picked_out_of_sentences() -> None:
    # "yok" answers "which transaction?" but means nothing inside a sentence.
    assert CATALOGUE.match_transaction_type("yok", answer=True).entry.id == "none"
    assert CATALOGUE.match_transaction_type("hesabımda para yok", answer=False) is None


def test_phrases_inside_sentences() -> None:
    match = CATALOGUE.match_transaction_type("dün yaptığım para çekme gelmedi", answer=False)
    assert match is not None and match.entry.id == "withdrawal"


def test_every_topic_has_a_known_department_and_both_languages() -> None:
    departments = {d.id for d in CATALOGUE.departments}
    assert {"account", "technical", "finance", "other"} <= departments
    for entry in CATALOGUE.topics + CATALOGUE.transaction_types + CATALOGUE.departments:
        assert set(entry.names) == {"tr", "en"}, entry.id
    for topic in CATALOGUE.topics:
        assert topic.department in departments


def test_faq_answers_map_to_topics() -> None:
    assert CATALOGUE.topic_for_faq("withdrawal_pending").id == "withdrawal"
    assert CATALOGUE.topic_for_faq("login_problem").id == "login"
    assert CATALOGUE.topic_for_faq("no_such_faq") is None


def test_an_unknown_department_is_refused() -> None:
    raw = {
        "departments": [{"id": "a", "name": {"tr": "A", "en": "A"}}],
        "topics": [{"id": "t", "department": "zzz", "name": {"tr": "T", "en": "T"}}],
    }
    with pytest.raises(ValueError, match="unknown department"):
        Catalogue(raw)


def test_one_topic_is_the_fallback_and_never_two() -> None:
    fallback = CATALOGUE.fallback_topic
    assert fallback is not None and fallback.department is not None
    raw = {
        "departments": [{"id": "other", "name": {"tr": "Diğer", "en": "Other"}}],
        "topics": [
            {"id": "a", "department": "other", "fallback": True, "name": {"tr": "A", "en": "A"}},
            {"id": "b", "department": "other", "fallback": True, "name": {"tr": "B", "en": "B"}},
        ],
    }
    with pytest.raises(ValueError, match="only one topic"):
        Catalogue(raw)
    raw["topics"] = raw["topics"][:1]
    assert Catalogue(raw).fallback_topic is not None
    assert Catalogue({"departments": raw["departments"], "topics": []}).fallback_topic is None


def test_other_sections_are_read_as_written() -> None:
    assert "urgent_words" in CATALOGUE.section("priority")
    assert CATALOGUE.section("no_such_section") == {}
