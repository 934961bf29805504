import pytest

from support_rules.language_detect import detect_language


@pytest.mark.parametrize(
    "text,language",
    [
        ("merhaba", "tr"),
        ("selam", "tr"),
        ("hesabima giremiyorum", "tr"),
        ("hesabıma giremiyorum", "tr"),
        ("sifremi unuttum", "tr"),
        ("login olamiyorum", "tr"),
        ("bonus cevrim sarti ne", "tr"),
        ("T-000123 ne durumda", "tr"),
        ("hello", "en"),
        ("I cannot login", "en"),
        ("my bet was settled wrong", "en"),
        ("I forgot my password", "en"),
        ("status of T-12", "en"),
        ("2 days ago", "en"),
    ],
)
def test_language_of_a_message(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["04.05.1990", "ahmet_34", "T-000123", "", "ok", "?!"])
def test_messages_without_a_language(text: str) -> None:
    assert detect_language(text) is None
