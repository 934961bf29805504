from datetime import date

import pytest

from support_rules.dates import DateReading, age_on, check_birth_date, read_birth_date, read_transaction_date

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
    # Year first, with a month name or numbers.
    ("2026 kasım 3'ünde", "2026-11-03"),
    ("2026 Kasım 3", "2026-11-03"),
    ("2025 aralık 21", "2025-12-21"),
    ("2025 december 21st", "2025-12-21"),
    ("2026 Feb 7", "2026-02-07"),
    ("2026, March 3rd", "2026-03-03"),
    ("2026/11/12", "2026-11-12"),
    ("2026.11.12", "2026-11-12"),
    # Inside a sentence.
    ("12 kasımda yatırdığım para gelmedi", "2026-11-12"),
    ("geçen ayın 5'inde çektim", "2026-10-05"),
    ("I deposited on March 3rd and it never arrived", "2026-03-03"),
    ("5 gün önce 500 TL çektim", "2026-11-17"),
    ("dünkü çekimim hâlâ yok", "2026-11-21"),
    ("my withdrawal from the 3rd is still pending", "2026-11-03"),
    ("yesterday's deposit is missing", "2026-11-21"),
    # Turkish ordinal and case-suffixed days: the most recent such day.
    ("12'sinde", "2026-11-12"),
    ("3'ünde", "2026-11-03"),
    ("1'inde", "2026-11-01"),
    ("20'sinde", "2026-11-20"),
    ("12sinde", "2026-11-12"),
    ("3ünde", "2026-11-03"),
    ("12.'de", "2026-11-12"),
    ("ayın 5'i", "2026-11-05"),
    ("28'inde", "2026-10-28"),  # still ahead this month: last month's
    ("kasımın 12'si", "2026-11-12"),
    ("mart ayının 5'i", "2026-03-05"),
    ("2inci gün", "2026-11-02"),
    # A day in a named month.
    ("geçen ay 5'inde", "2026-10-05"),
    ("geçen ayın 31'inde", "2026-10-31"),
    ("bu ayın 3'ü", "2026-11-03"),
    ("the 5th of last month", "2026-10-05"),
    ("last month on the 5th", "2026-10-05"),
    ("the 3rd of this month", "2026-11-03"),
    # Suffixed relative words.
    ("dünkü", "2026-11-21"),
    ("bugünkü", "2026-11-22"),
    ("evvelsi gün", "2026-11-20"),
    ("önceki günkü", "2026-11-20"),
    ("geçen haftaki", "2026-11-15"),
    ("geçen ayki yatırım", "2026-10-22"),
    ("geçen sene", "2025-11-22"),
    ("3 gün önceki", "2026-11-19"),
    ("3 gün öncesinde", "2026-11-19"),
    ("last month", "2026-10-22"),
    ("geçen haftaki cuma", "2026-11-20"),
    # English ordinals.
    ("the 3rd", "2026-11-03"),
    ("on the 21st", "2026-11-21"),
    ("on the 28th", "2026-10-28"),
    ("3rd of March", "2026-03-03"),
    ("March 21st", "2026-03-21"),
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
        ("31 şubatta", "invalid"),
        ("2026 şubat 30", "invalid"),
        ("bu ayın 31'i", "invalid"),  # November has 30 days
        ("2027 mart 5", "future"),
        ("2026 kasım 30'unda", "future"),
        ("bu ayın 25'inde", "future"),
        ("the 25th of this month", "future"),
        ("1987 nisan 12", "too_old"),
        ("2025 march 21st", "too_old"),
        ("2 sene önce", "too_old"),
        ("99999 yıl önce", "invalid"),
        ("dünya", "unparsed"),
        ("geçen gün", "unparsed"),  # "the other day": no date
        ("mart ayında 5 kez yatırdım", "unparsed"),
    ],
)
def test_transaction_dates_that_are_refused(text: str, error: str) -> None:
    reading = read_transaction_date(text, TODAY, max_age_days=365)
    assert reading.value is None
    assert reading.error == error


@pytest.mark.parametrize(
    "text,today,expected",
    [
        # A bare day still ahead this month is last month's; one that last
        # month lacks is the month before's.
        ("5'inde", date(2026, 12, 1), "2026-11-05"),
        ("the 31st", date(2026, 12, 1), "2026-10-31"),
        ("geçen ayın 15'i", date(2026, 1, 10), "2025-12-15"),
        ("the 15th of last month", date(2026, 1, 10), "2025-12-15"),
        ("geçen ayın 31'i", date(2026, 12, 1), "invalid"),  # November has 30 days
        ("2027 mart 5", date(2026, 12, 1), "future"),
        ("1 ay önce", date(2026, 3, 31), "2026-02-28"),  # the shorter month's last day
        ("1 yıl önce", date(2028, 2, 29), "2027-02-28"),
        ("a year ago", date(2028, 2, 29), "2027-02-28"),
    ],
)
def test_transaction_dates_across_month_ends(text: str, today: date, expected: str) -> None:
    reading = read_transaction_date(text, today, max_age_days=400)
    if expected[0].isdigit():
        assert reading.error is None, reading
        assert reading.value == date.fromisoformat(expected)
    else:
        assert (reading.value, reading.error) == (None, expected)


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
        "1990 mayıs 4",
        "1990 Mayıs 4'ünde doğdum",
        "1990 May 4th",
        "1990, May 4",
        "1990/05/04",
        "1990.05.04",
    ],
)
def test_birth_date_forms(text: str) -> None:
    assert read_birth_date(text, TODAY).value == date(1990, 5, 4)


@pytest.mark.parametrize(
    "text,expected",
    [("1987 nisan 12", "1987-04-12"), ("2003 Feb 7", "2003-02-07"), ("2025 march 21st", "2025-03-21")],
)
def test_year_first_birth_dates(text: str, expected: str) -> None:
    assert read_birth_date(text, TODAY).value == date.fromisoformat(expected)


@pytest.mark.parametrize("text", ["4 Mayıs", "dün", "1987 nisan", "nisan 12", "12'sinde", "geçen ayın 5'i"])
def test_birth_date_needs_a_year(text: str) -> None:
    assert read_birth_date(text, TODAY) == DateReading(None, "unparsed")


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
        ("2008 kasım 22", date(2026, 11, 22), "over_18"),
        ("2008 November 23rd", date(2026, 11, 22), "under_18"),
        ("1990 şubat 30", date(2026, 11, 22), "invalid"),
        ("2030 ocak 1", date(2026, 11, 22), "future"),
    ],
)
def test_birth_date_outcomes(text: str, today: date, outcome: str) -> None:
    assert check_birth_date(text, today).outcome == outcome
