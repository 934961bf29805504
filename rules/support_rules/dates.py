"""Reading dates the way Turkish and English customers write them.

Absolute dates are read by explicit patterns: year first (ISO numbers, then
"1987 nisan 12" / "2003 Feb 7"), then day-first numbers, then month names in
both languages, because dateparser misreads some of them ("12 Mart" as a
MART time zone, "1990-05-04" under a day-first order). Relative expressions
("dün", "dünkü", "3 gün önceki", "two weeks ago", "geçen haftaki") are
counted back from today here: dateparser reads none of the Turkish suffixed
forms and returns nothing for "1 yıl önce" on 29 February. Weekday names
("geçen cuma", "last Friday") and bare days of the month ("12'sinde",
"3'ünde", "12.'de", "the 12th") resolve to the most recent such day on or
before today; "geçen ayın 5'i" / "the 5th of last month" name the month.
Every pattern searches, so a date is found inside a whole sentence.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from support_rules.text import fold_letters

__all__ = [
    "DateReading",
    "BirthDateCheck",
    "read_date",
    "read_transaction_date",
    "read_birth_date",
    "age_on",
    "check_birth_date",
    "ADULT_AGE",
    "MAX_AGE",
]

ADULT_AGE = 18
MAX_AGE = 120

_MONTHS = {
    # Turkish (folded) and English month names and common abbreviations.
    "ocak": 1,
    "subat": 2,
    "mart": 3,
    "nisan": 4,
    "mayis": 5,
    "haziran": 6,
    "temmuz": 7,
    "agustos": 8,
    "eylul": 9,
    "ekim": 10,
    "kasim": 11,
    "aralik": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "oca": 1,
    "sub": 2,
    "nis": 4,
    "haz": 6,
    "tem": 7,
    "agu": 8,
    "eyl": 9,
    "eki": 10,
    "kas": 11,
    "ara": 12,
}
_WEEKDAYS = {
    "pazartesi": 0,
    "sali": 1,
    "carsamba": 2,
    "persembe": 3,
    "cuma": 4,
    "cumartesi": 5,
    "pazar": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_ALT = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
# Turkish nouns take suffixes: "martta", "mayisin", "cumaya".
_SFX = r"[a-z]*"

_ORD = r"(?:st|nd|rd|th)?"
# Year first: "1990-05-04", "1990/05/04", "1987 nisan 12", "2003 Feb 7", "2026 kasım 3'ünde".
_ISO = re.compile(r"\b(\d{4})([-./])(\d{1,2})\2(\d{1,2})\b")
_YEAR_MONTH_DAY = re.compile(rf"\b(\d{{4}}),?\s+({_MONTH_ALT}){_SFX}\s+(\d{{1,2}}){_ORD}(?!\d)")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{4}|\d{2}))?\b(?![./-]?\d)")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}}){_ORD}(?:\s+of)?\s+({_MONTH_ALT}){_SFX}\b(?:,?\s+(\d{{4}}))?")
# "March 3rd", "kasımın 12'si", "mart ayının 5'i"
_MONTH_DAY = re.compile(rf"\b({_MONTH_ALT}){_SFX}(?:\s+ayinin)?\s+(\d{{1,2}}){_ORD}\b(?:,?\s+(\d{{4}}))?")
_WEEKDAY = re.compile(rf"\b(?:(gecen|last|onceki|previous)\s+)?(?:hafta(?:ki|nin)?\s+)?({_WEEKDAY_ALT})(?:{_SFX})\b")
_TWO_DAYS_AGO = re.compile(r"\b(?:onceki|evvelki|evvelsi)\s+gun(?:k[iu][a-z]*)?\b|\bday before yesterday\b")
_COUNT = r"\d+|bir|iki|uc|dort|bes|alti|yedi|sekiz|dokuz|on|a|an|one|two|three|four|five|six|seven|eight|nine|ten"
_UNIT = r"gun|hafta|ay|yil|sene|day|week|month|year"
_LONG_UNIT = r"hafta|ay|yil|sene|week|month|year"  # "geçen gün" is any recent day
# "3 gün önce", "3 gün önceki", "3 gün öncesinde", "two weeks ago"
_AGO = re.compile(rf"\b({_COUNT})\s+({_UNIT})s?\s+(?:once(?:ki|si[a-z]*)?|ago)\b")
# "geçen hafta", "geçen haftaki", "geçen ayki", "last year"
_LAST = re.compile(rf"\b(?:gecen|last)\s+({_LONG_UNIT})(?:ki)?\b")
# "dün", "dünkü", "bugünkü", "yesterday's"
_DAY_WORD = re.compile(r"\b(dun|bugun|yesterday|today)(?:k[iu][a-z]*)?\b")
_UNIT_DAYS = {"gun": 1, "day": 1, "hafta": 7, "week": 7}
_UNIT_MONTHS = {"ay": 1, "month": 1, "yil": 12, "sene": 12, "year": 12}
_DAY_WORDS = {"dun": 1, "yesterday": 1, "bugun": 0, "today": 0}
# A day in a named month: "geçen ayın 5'inde", "bu ayın 3'ü", "the 5th of last month".
_MONTH_BACK = {"gecen": 1, "last": 1, "bu": 0, "this": 0}
_DAY_IN_NAMED_MONTH = (
    re.compile(r"\b(?P<which>gecen|bu)\s+ayin\s+(?P<day>\d{1,2})(?!\d)"),
    re.compile(r"\b(?P<which>gecen|bu)\s+ay\s+(?P<day>\d{1,2})\.?\s*'"),
    re.compile(rf"\b(?P<day>\d{{1,2}}){_ORD}\s+of\s+(?P<which>last|this)\s+month\b"),
    re.compile(r"\b(?P<which>last|this)\s+month\s+on\s+the\s+(?P<day>\d{1,2})(?!\d)"),
)
_NUMBER_WORDS = {
    "bir": 1,
    "iki": 2,
    "uc": 3,
    "dort": 4,
    "bes": 5,
    "alti": 6,
    "yedi": 7,
    "sekiz": 8,
    "dokuz": 9,
    "on": 10,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
# A bare day of the month. Turkish: a case ending after an apostrophe
# ("12'si", "25'i", "12.'de") or written on ("12sinde", "3unde", "1inde",
# "12siydi", "3uncu"); English: "3rd", "the 21st"; "ayın 5'i".
_ORDINAL_DAY = re.compile(
    r"\b(\d{1,2})\.?\s*'\s*[a-z]{1,8}\b"
    r"|\b(\d{1,2})(?:st|nd|rd|th|s?[iu](?:nd[ae]|n[ae]|yd[iu])?|[iu]?nc[iu])\b"
    r"|\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\bayin\s+(\d{1,2})\b"
)


@dataclass(frozen=True)
class DateReading:
    """A date read from text, or why none could be: "unparsed" or "invalid"."""

    value: date | None
    error: str | None = None


@dataclass(frozen=True)
class BirthDateCheck:
    """Outcome of an age check. ``outcome`` is one of: over_18, under_18,
    future, implausible, invalid, unparsed. The birth date itself is not kept."""

    outcome: str
    age: int | None = None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(raw: str | None, today: date) -> int | None:
    if raw is None:
        return None
    year = int(raw)
    if len(raw) == 2:  # "90" -> 1990, "24" -> 2024
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _past_without_year(month: int, day: int, today: date) -> date | None:
    """A day and month with no year: this year's, or last year's if still ahead."""
    candidate = _safe_date(today.year, month, day)
    if candidate is None:
        return _safe_date(today.year - 1, month, day)
    return candidate if candidate <= today else _safe_date(today.year - 1, month, day)


def _past_day_of_month(day: int, today: date) -> date | None:
    if not 1 <= day <= 31:
        return None
    month, year = today.month, today.year
    for _ in range(12):
        candidate = _safe_date(year, month, day)
        if candidate and candidate <= today:
            return candidate
        month, year = (12, year - 1) if month == 1 else (month - 1, year)
    return None


def _months_back(today: date, months: int) -> date:
    """The same day ``months`` earlier, on the month's last day if it is shorter."""
    year, month0 = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def _absolute(folded: str, today: date, need_year: bool) -> DateReading | None:
    patterns = ((_ISO, "ymd"), (_YEAR_MONTH_DAY, "yMd"), (_NUMERIC, "dmy"), (_DAY_MONTH, "dMy"), (_MONTH_DAY, "Mdy"))
    for pattern, order in patterns:
        match = pattern.search(folded)
        if not match:
            continue
        groups = match.groups()
        year: int | None
        if order == "ymd":
            year, month, day = int(groups[0]), int(groups[2]), int(groups[3])
        elif order == "yMd":
            year, month, day = int(groups[0]), _MONTHS[groups[1]], int(groups[2])
        elif order == "dmy":
            if groups[2] is None and (need_year or "." not in match.group(0) and "/" not in match.group(0)):
                continue
            day, month, year = int(groups[0]), int(groups[1]), _full_year(groups[2], today)
        elif order == "dMy":
            day, month, year = int(groups[0]), _MONTHS[groups[1]], _full_year(groups[2], today)
        else:
            month, day, year = _MONTHS[groups[0]], int(groups[1]), _full_year(groups[2], today)
        if year is None:
            if need_year:
                continue
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return DateReading(None, "invalid")
            value = _past_without_year(month, day, today)
            return DateReading(value, None if value else "invalid")
        value = _safe_date(year, month, day)
        return DateReading(value, None if value else "invalid")
    return None


def _day_in_named_month(folded: str, today: date) -> DateReading | None:
    for pattern in _DAY_IN_NAMED_MONTH:
        match = pattern.search(folded)
        if match:
            month = _months_back(today.replace(day=1), _MONTH_BACK[match.group("which")])
            value = _safe_date(month.year, month.month, int(match.group("day")))
            return DateReading(value, None if value else "invalid")
    return None


def _counted_back(folded: str, today: date) -> DateReading | None:
    """A count of units back from today: "3 gün önce", "geçen haftaki", "dünkü"."""
    match = _AGO.search(folded)
    if match:
        raw = match.group(1)
        count, unit = (int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]), match.group(2)
    elif match := _LAST.search(folded):
        count, unit = 1, match.group(1)
    elif match := _DAY_WORD.search(folded):
        return DateReading(today - timedelta(days=_DAY_WORDS[match.group(1)]))
    else:
        return None
    try:
        if unit in _UNIT_DAYS:
            return DateReading(today - timedelta(days=count * _UNIT_DAYS[unit]))
        return DateReading(_months_back(today, count * _UNIT_MONTHS[unit]))
    except (OverflowError, ValueError):  # "99999 yıl önce": before year 1
        return DateReading(None, "invalid")


def _relative(folded: str, today: date) -> DateReading | None:
    named = _day_in_named_month(folded, today)
    if named:
        return named
    if _TWO_DAYS_AGO.search(folded):
        return DateReading(today - timedelta(days=2))
    match = _WEEKDAY.search(folded)
    if match:
        weekday = _WEEKDAYS[match.group(2)]
        back = (today.weekday() - weekday) % 7
        if back == 0 and match.group(1):
            back = 7
        return DateReading(today - timedelta(days=back))
    counted = _counted_back(folded, today)
    if counted:
        return counted
    match = _ORDINAL_DAY.search(folded)
    if match:
        day = int(next(g for g in match.groups() if g))
        value = _past_day_of_month(day, today)
        return DateReading(value, None if value else "invalid")
    return None


def read_date(text: str, today: date) -> DateReading:
    """Find one date in ``text`` (a bare answer or a whole sentence)."""
    folded = fold_letters(text)
    if not folded:
        return DateReading(None, "unparsed")
    return _absolute(folded, today, need_year=False) or _relative(folded, today) or DateReading(None, "unparsed")


def read_transaction_date(text: str, today: date, max_age_days: int) -> DateReading:
    """A transaction date: never in the future, never older than the limit."""
    reading = read_date(text, today)
    if reading.value is None:
        return reading
    if reading.value > today:
        return DateReading(None, "future")
    if (today - reading.value).days > max_age_days:
        return DateReading(None, "too_old")
    return reading


def read_birth_date(text: str, today: date) -> DateReading:
    """A birth date must carry day, month and year."""
    folded = fold_letters(text)
    return _absolute(folded, today, need_year=True) or DateReading(None, "unparsed")


def age_on(birth: date, today: date) -> int:
    """Completed years. A 29 February birthday falls on 1 March in common years."""
    years = today.year - birth.year
    birthday = _safe_date(today.year, birth.month, birth.day) or date(today.year, 3, 1)
    return years - (1 if today < birthday else 0)


def check_birth_date(text: str, today: date) -> BirthDateCheck:
    reading = read_birth_date(text, today)
    if reading.value is None:
        return BirthDateCheck(reading.error or "unparsed")
    if reading.value > today:
        return BirthDateCheck("future")
    age = age_on(reading.value, today)
    if age > MAX_AGE:
        return BirthDateCheck("implausible")
    return BirthDateCheck("over_18" if age >= ADULT_AGE else "under_18", age)
