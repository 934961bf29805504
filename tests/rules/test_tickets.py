"""Ticket numbers, statuses and the limits both processes share."""

import pytest

from support_rules.language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, fallback_language
from support_rules.limits import wait_minutes
from support_rules.tickets import (
    CLOSED_STATUSES,
    MAX_TICKET_ID,
    OPEN_STATUSES,
    TICKET_NUMBER_PATTERN,
    TICKET_STATUSES,
    find_ticket_number,
    format_ticket_number,
    is_clear_cancel,
    parse_ticket_number,
)


def test_ticket_numbers_round_trip() -> None:
    assert format_ticket_number(123) == "T-000123"
    assert format_ticket_number(1234567) == "T-1234567"
    assert parse_ticket_number("T-000123") == 123
    assert parse_ticket_number(" t-000123 ") == 123
    for ticket_id in (1, 999_999, 1_000_000, MAX_TICKET_ID):
        assert parse_ticket_number(format_ticket_number(ticket_id)) == ticket_id


@pytest.mark.parametrize(
    "bad", ["T-", "123", "T-12a", "T-١٢٣", "X-000123", "T-" + "9" * 30, "", "T-" + "9" * 18, f"T-{2**31}"]
)
def test_anything_else_is_no_ticket_number(bad: str) -> None:
    assert parse_ticket_number(bad) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("T-000123 ne durumda", "T-000123"),
        ("status of t 45", "T-000045"),
        ("T123?", "T-000123"),
        ("talebim ne oldu", None),
        ("ticket #T-7", "T-000007"),
        ("T#88 hala açık mı", "T-000088"),
    ],
)
def test_ticket_numbers_in_what_customers_write(text: str, expected: str | None) -> None:
    assert find_ticket_number(text) == expected


def test_every_status_is_open_or_closed_exactly_once() -> None:
    assert set(OPEN_STATUSES) | set(CLOSED_STATUSES) == set(TICKET_STATUSES)
    assert not set(OPEN_STATUSES) & set(CLOSED_STATUSES)


@pytest.mark.parametrize("seconds,minutes", [(None, 1), (0, 1), (1, 1), (60, 1), (61, 2), (299.5, 5), (3600, 60)])
def test_waits_are_whole_minutes_rounded_up(seconds: float | None, minutes: int) -> None:
    assert wait_minutes(seconds) == minutes


def test_unknown_languages_fall_back_to_the_default() -> None:
    assert DEFAULT_LANGUAGE in SUPPORTED_LANGUAGES
    assert fallback_language("en") == "en"
    assert fallback_language("tr") == "tr"
    for other in (None, "", "de", "EN"):
        assert fallback_language(other) == DEFAULT_LANGUAGE


@pytest.mark.parametrize(
    "intent,confidence,text,cancels",
    [
        ("cancel", 0.95, "vazgeçtim", True),
        ("cancel", 0.9, "never mind, cancel it", True),
        ("cancel", 0.95, "kartımı iptal etmek istiyorum, çalındı", False),  # a message for the agent
        ("cancel", 0.55, "iptal", False),  # not confident
        ("cancel", None, "iptal", False),
        ("deposit_problem", 0.99, "iptal", False),
    ],
)
def test_only_a_short_confident_cancel_leaves_the_queue(
    intent: str, confidence: float | None, text: str, cancels: bool
) -> None:
    assert is_clear_cancel(intent, confidence, text) is cancels


def test_the_number_pattern_finds_formatted_numbers() -> None:
    import re

    assert re.findall(TICKET_NUMBER_PATTERN, "T-000123 ve T-1234567, T-12 değil") == ["T-000123", "T-1234567"]
