"""Issue 17's targets as the benchmarks print them: bench.bot_latency's
throughput and p95 ratios against the vanilla assistant, and
bench.handoff_latency's limit by the number of handoffs."""

from __future__ import annotations

from bench.bot_latency import targets_met
from bench.handoff_latency import target_ms


def test_both_channels_meet_every_target() -> None:
    p95 = {"10": {"vanilla": 1.0, "ours_rest": 0.8, "ours_socketio": 1.0}}
    per_s = {"10": {"ours_rest": 1.5, "ours_socketio": 1.6}, "50": {"ours_rest": 1.7, "ours_socketio": 1.5}}
    found = targets_met(p95, per_s)
    assert found["met"] == {"ours_rest": True, "ours_socketio": True}
    assert len(found["lines"]) == 6 and all(line.endswith("met") for line in found["lines"])


def test_one_ratio_below_its_target_is_a_miss_for_that_channel_only() -> None:
    p95 = {"10": {"ours_rest": 0.9, "ours_socketio": 1.01}}
    per_s = {"10": {"ours_rest": 1.49, "ours_socketio": 2.0}, "50": {"ours_rest": 2.0, "ours_socketio": 2.0}}
    found = targets_met(p95, per_s)
    assert found["met"] == {"ours_rest": False, "ours_socketio": False}
    missed = [line for line in found["lines"] if line.endswith("missed")]
    assert missed == [
        "target msg/s at 10 customers >= 1.5 x vanilla, ours_rest: 1.49 -> missed",
        "target p95 at 10 customers <= 1.0 x vanilla, ours_socketio: 1.01 -> missed",
    ]


def test_a_channel_not_measured_at_every_size_is_not_called_met() -> None:
    found = targets_met({"10": {"ours_rest": 0.5}}, {"10": {"ours_rest": 3.0}})
    assert found["met"] == {"ours_rest": False}  # 50 customers did not run


def test_the_handoff_limit_is_300_ms_up_to_20_handoffs_and_500_above() -> None:
    assert [target_ms(n) for n in (1, 20, 21, 100)] == [300, 300, 500, 500]
