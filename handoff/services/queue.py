"""Queue rules: expected wait and waiting-time percentiles (pure functions).

Expected wait (seconds) for a ticket at queue position ``p`` (1 = next):

    n = tickets of the department claimed in the last W seconds
    wait = ceil(p * W / n)            when n > 0
    wait = p * H                      when n = 0

W is ``HANDOFF_RATE_WINDOW`` (default 3600 s) and H is
``HANDOFF_DEFAULT_HANDLE_SECONDS`` (default 300 s), the assumed time per
ticket before any handling rate is known.

Kinds of request take different times: a verification request (documents
to check) is assumed to take ``HANDOFF_VERIFICATION_HANDLE_SECONDS`` (H_v,
default 900 s). ``expected_wait_by_kind`` counts every ticket at or ahead
of the position by its kind: each verification request weighs H_v / H
support requests, so with p_s support and p_v verification tickets up to
and including this one

    wait = ceil((p_s + p_v * H_v / H) * W / n)    when n > 0
    wait = p_s * H + p_v * H_v                    when n = 0

(with only support tickets this is the rule above).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["expected_wait_seconds", "expected_wait_by_kind", "percentile"]


def expected_wait_seconds(
    position: int, claims_in_window: int, window_seconds: int, default_handle_seconds: int
) -> int:
    if position <= 0:
        return 0
    if claims_in_window <= 0:
        return position * default_handle_seconds
    return math.ceil(position * window_seconds / claims_in_window)


def expected_wait_by_kind(
    counts: Mapping[str, int],
    claims_in_window: int,
    window_seconds: int,
    handle_seconds: Mapping[str, int],
    default_kind: str,
) -> int:
    """``counts``: tickets of each kind at or ahead of the position (this
    one included); ``handle_seconds``: the assumed time per kind (a kind
    missing there takes ``default_kind``'s)."""
    base = handle_seconds[default_kind]
    total = sum(max(n, 0) * handle_seconds.get(kind, base) for kind, n in counts.items())
    if total <= 0:
        return 0
    if claims_in_window <= 0:
        return total
    return math.ceil(total * window_seconds / (base * claims_in_window))


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
