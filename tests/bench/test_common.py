"""The benchmarks' arithmetic (bench/common.py): percentiles, summaries and
medians of runs. No timing is asserted anywhere: figures are printed by the
bench scripts (docs/BENCHMARKS.md)."""

from __future__ import annotations

import math

import pytest

from bench.common import median_of_runs, percentile, summary, table
from bench.conversations import CONVERSATIONS, TO_TICKET, script


def test_percentile_matches_linear_interpolation() -> None:
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile(values, 40)
    assert percentile(values, 95) == pytest.approx(48.0)
    assert percentile(list(reversed(values)), 95) == pytest.approx(48.0)  # order does not matter


def test_percentile_of_one_and_of_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_summary_in_milliseconds_with_rate() -> None:
    s = summary([0.1] * 99 + [1.0], elapsed_s=10.0)
    assert s["n"] == 100
    assert s["p50_ms"] == 100.0
    assert s["p95_ms"] == 100.0
    assert s["p99_ms"] == pytest.approx(109.0)
    assert s["max_ms"] == 1000.0
    assert s["per_s"] == 10.0


def test_median_of_runs_key_by_key() -> None:
    runs = [
        {"p95_ms": 10.0, "n": 5, "note": "x"},
        {"p95_ms": 30.0, "n": 5, "note": "y"},
        {"p95_ms": 20.0, "n": 6, "note": "z"},
    ]
    assert median_of_runs(runs) == {"p95_ms": 20.0, "n": 5}


def test_table_aligns_columns() -> None:
    lines = table([["a", 1], ["bbb", 22]], ["name", "n"]).splitlines()
    assert lines[0].startswith("name") and len({len(line.rstrip()) for line in lines[2:]}) >= 1
    assert lines[3].startswith("bbb ")


def test_conversations_alternate_languages_and_end_after_the_ticket() -> None:
    assert [script(i)[0] for i in range(4)] == ["tr", "en", "tr", "en"]
    for language, texts in CONVERSATIONS.items():
        assert TO_TICKET[language] == len(texts) - 1
        assert texts[TO_TICKET[language] - 1] in ("evet", "yes")  # the confirmation that creates the ticket
