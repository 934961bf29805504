"""Pure queue rules: expected wait and percentiles."""

from handoff.services.queue import expected_wait_by_kind, expected_wait_seconds, percentile


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


HANDLE = {"support": 300, "verification": 900}


def test_with_support_requests_only_the_wait_by_kind_is_the_plain_rule() -> None:
    for position, claims in ((3, 12), (1, 7), (4, 0), (0, 10)):
        plain = expected_wait_seconds(position, claims, 3600, 300)
        assert expected_wait_by_kind({"support": position}, claims, 3600, HANDLE, "support") == plain


def test_verification_requests_take_longer_than_support_requests() -> None:
    # nothing claimed yet: each kind takes its assumed time
    assert expected_wait_by_kind({"verification": 1}, 0, 3600, HANDLE, "support") == 900
    assert expected_wait_by_kind({"support": 1}, 0, 3600, HANDLE, "support") == 300
    assert expected_wait_by_kind({"support": 2, "verification": 1}, 0, 3600, HANDLE, "support") == 1500
    # 12 claims an hour (one every 300 s): a verification request weighs three
    assert expected_wait_by_kind({"support": 1, "verification": 1}, 12, 3600, HANDLE, "support") == 1200
    assert expected_wait_by_kind({"verification": 1}, 12, 3600, HANDLE, "support") > expected_wait_by_kind(
        {"support": 1}, 12, 3600, HANDLE, "support"
    )
    assert expected_wait_by_kind({}, 12, 3600, HANDLE, "support") == 0
    # a kind without a figure takes the default kind's
    assert expected_wait_by_kind({"other": 2}, 0, 3600, HANDLE, "support") == 600
