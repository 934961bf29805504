import pytest

from support_rules.usernames import find_username

PATTERN = r"[A-Za-z][A-Za-z0-9_.]{2,19}"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("kullanıcı adım ayse_k", "ayse_k"),
        ("kullanici adim: mehmet.k", "mehmet.k"),
        ("my username is mark_77.", "mark_77"),
        ("username: john_doe99", "john_doe99"),
        ("ahmet_34", "ahmet_34"),
    ],
)
def test_usernames(text: str, expected: str) -> None:
    assert find_username(text, PATTERN) == expected


@pytest.mark.parametrize("text", ["ab", "1abc", "evet bu benim", "x" * 30, "ayşe!"])
def test_not_usernames(text: str) -> None:
    assert find_username(text, PATTERN) is None


def test_bare_usernames_only_when_asked() -> None:
    assert find_username("ahmet_34", PATTERN, bare=False) is None
    assert find_username("kullanıcı adım ahmet_34", PATTERN, bare=False) == "ahmet_34"


def test_the_pattern_is_configurable() -> None:
    assert find_username("12345", r"\d{5}") == "12345"
    assert find_username("ayse_k", r"\d{5}") is None
