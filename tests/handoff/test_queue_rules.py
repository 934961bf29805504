"""Pure queue rules: expected wait and percentiles."""

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
