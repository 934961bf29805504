from datetime import date

import pytest

from actions.core.dates import age_on, check_birth_date, read_birth_date, read_transaction_date

TODAY = date(2026, 11, 22)  # a Sunday

# (expression, expected ISO date). Turkish and English, with and without
# Turkish letters, absolute and relative.
TRANSACTION_DATES = [
    ("dün", "2026-11-21"),
    ("dun", "2026-11-21"),
    ("bugün", "2026-11-22"),
    ("today", "2026-11-22"),
    ("yesterday", "2026-11-21"),
    ("önceki gün", "2026-11-20"),
    ("the day before yesterday", "2026-11-20"),
    ("3 gün önce", "2026-11-19"),
    ("3 gun once", "2026-11-19"),
    ("iki gün önce", "2026-11-20"),
    ("3 days ago", "2026-11-19"),
    ("two days ago", "2026-11-20"),
    ("a week ago", "2026-11-15"),
    ("2 hafta önce", "2026-11-08"),
    ("geçen hafta", "2026-11-15"),
    ("last week", "2026-11-15"),
    ("1 ay önce", "2026-10-22"),
    ("geçen cuma", "2026-11-20"),
    ("gecen cuma", "2026-11-20"),
    ("last Friday", "2026-11-20"),
    ("cumartesi", "2026-11-21"),
    ("on Monday", "2026-11-16"),
    ("12 Mart", "2026-03-12"),
    ("12 martta", "2026-03-12"),
    ("12 Kasım", "2026-11-12"),
    ("12 kasim 2026", "2026-11-12"),
    ("March 3rd", "2026-03-03"),
    ("November 12, 2026", "2026-11-12"),
    ("12.11.2026", "2026-11-12"),
    ("12/11/2026", "2026-11-12"),
    ("12.11", "2026-11-12"),
    ("2026-11-12", "2026-11-12"),
    ("the 12th", "2026-11-12"),
    ("on the 5th", "2026-11-05"),
    ("12'siydi", "2026-11-12"),
    ("hayır, ayın 12’si", "2026-11-12"),
    ("25'i", "2026-10-25"),
    ("dün yaptığım para çekme gelmedi", "2026-11-21"),
    ("my deposit from last friday is missing", "2026-11-20"),
    ("1 Aralık", "2025-12-01"),
]


@pytest.mark.parametrize("text,expected", TRANSACTION_DATES)
def test_transaction_dates_in_both_languages(text: str, expected: str) -> None:
    reading = read_transaction_date(text, TODAY, max_age_days=365)
    assert reading.error is None, reading
    assert reading.value == date.fromisoformat(expected)


@pytest.mark.parametrize(
    "text,error",
    [
        ("30.11.2026", "future"),
        ("yarın", "unparsed"),
        ("31.02.2026", "invalid"),
        ("31 Şubat", "invalid"),
        ("30.02.2026", "invalid"),
        ("12.11.2020", "too_old"),
        ("evet", "unparsed"),
        ("ayse_k", "unparsed"),
        ("", "unparsed"),
    ],
)
def test_transaction_dates_that_are_refused(text: str, error: str) -> None:
    reading = read_transaction_date(text, TODAY, max_age_days=365)
    assert reading.value is None
    assert reading.error == error


def test_the_age_limit_on_transactions_is_configurable() -> None:
    assert read_transaction_date("12.11.2025", TODAY, max_age_days=400).value == date(2025, 11, 12)
    assert read_transaction_date("12.11.2025", TODAY, max_age_days=30).error == "too_old"


@pytest.mark.parametrize(
    "text",
    [
        "4 Mayıs 1990",
        "4 mayis 1990",
        "04.05.1990",
        "1990-05-04",
        "May 4, 1990",
        "4/5/1990",
        "4 May 1990",
        "4th of May 1990",
        "04-05-1990",
        "doğum tarihim 04.05.1990",
    ],
)
def test_birth_date_forms(text: str) -> None:
    assert read_birth_date(text, TODAY).value == date(1990, 5, 4)


def test_birth_date_needs_a_year() -> None:
    assert read_birth_date("4 Mayıs", TODAY).value is None
    assert read_birth_date("dün", TODAY).value is None


@pytest.mark.parametrize(
    "birth,today,age",
    [
        (date(2008, 11, 22), date(2026, 11, 22), 18),  # 18th birthday today
        (date(2008, 11, 23), date(2026, 11, 22), 17),  # 18th birthday tomorrow
        (date(2008, 11, 21), date(2026, 11, 22), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # leap-day birth, common year
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),  # leap year: the day itself
        (date(2008, 2, 29), date(2028, 2, 28), 19),
    ],
)
def test_exact_age(birth: date, today: date, age: int) -> None:
    assert age_on(birth, today) == age


@pytest.mark.parametrize(
    "text,today,outcome",
    [
        ("22.11.2008", date(2026, 11, 22), "over_18"),
        ("23.11.2008", date(2026, 11, 22), "under_18"),
        ("29.02.2008", date(2026, 2, 28), "under_18"),
        ("29.02.2008", date(2026, 3, 1), "over_18"),
        ("01.01.2030", date(2026, 11, 22), "future"),
        ("01.01.1900", date(2026, 11, 22), "implausible"),
        ("01.01.1907", date(2026, 11, 22), "over_18"),
        ("31.02.1990", date(2026, 11, 22), "invalid"),
        ("29.02.2007", date(2026, 11, 22), "invalid"),
        ("bilmiyorum", date(2026, 11, 22), "unparsed"),
    ],
)
def test_birth_date_outcomes(text: str, today: date, outcome: str) -> None:
    assert check_birth_date(text, today).outcome == outcome
