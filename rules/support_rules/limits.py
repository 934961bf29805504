"""Sizes and roundings both sides apply to what a customer sees or sends."""

from __future__ import annotations

import math
from typing import Final

__all__ = ["MAX_MESSAGE_CHARS", "MAX_DESCRIPTION_CHARS", "wait_minutes"]

# Longest customer message a channel passes on (longer ones are cut), and
# the longest text the handoff service accepts in a message or reply. Each
# process may lower it through its settings; this is the default.
MAX_MESSAGE_CHARS: Final = 4000
# The customer's own description in a handoff summary.
MAX_DESCRIPTION_CHARS: Final = 4000


def wait_minutes(seconds: float | None) -> int:
    """An expected wait as whole minutes for a customer: rounded up, at least 1."""
    return max(1, math.ceil((seconds or 0) / 60))
