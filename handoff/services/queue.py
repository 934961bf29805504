"""Queue rules: expected wait and waiting-time percentiles (pure functions).

Expected wait (seconds) for a ticket at queue position ``p`` (1 = next):

    n = tickets of the department claimed in the last W seconds
    wait = ceil(p * W / n)            when n > 0
    wait = p * H                      when n = 0

W is ``HANDOFF_RATE_WINDOW`` (default 3600 s) and H is
``HANDOFF_DEFAULT_HANDLE_SECONDS`` (default 300 s), the assumed time per
ticket before any handling rate is known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["expected_wait_seconds", "percentile"]


def expected_wait_seconds(
    position: int, claims_in_window: int, window_seconds: int, default_handle_seconds: int
) -> int:
    if position <= 0:
        return 0
    if claims_in_window <= 0:
        return position * default_handle_seconds
    return math.ceil(position * window_seconds / claims_in_window)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
