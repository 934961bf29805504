"""Pure queue rules: expected wait and percentiles."""

from handoff.models import format_ticket_number, parse_ticket_number
from handoff.services.queue import expected_wait_seconds, percentile


def test_expected_wait_uses_recent_rate() -> None:
    # 12 claims in an hour: one every 300 s; third in line waits 900 s
    assert expected_wait_seconds(3, 12, 3600, 300) == 900
    assert expected_wait_seconds(1, 7, 3600, 300) == 515  # ceil(3600 / 7)


def test_expected_wait_without_history_uses_default() -> None:
    assert expected_wait_seconds(4, 0, 3600, 120) == 480


def test_expected_wait_not_queued() -> None:
    assert expected_wait_seconds(0, 10, 3600, 300) == 0


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None


def test_ticket_numbers() -> None:
    assert format_ticket_number(123) == "T-000123"
    assert format_ticket_number(1234567) == "T-1234567"
    assert parse_ticket_number("T-000123") == 123
    assert parse_ticket_number(" t-000123 ") == 123
    for bad in ("T-", "123", "T-12a", "T-١٢٣", "X-000123", "T-" + "9" * 30):
        assert parse_ticket_number(bad) is None
