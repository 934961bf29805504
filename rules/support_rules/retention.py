"""How long anything of a conversation is kept, one age for every store.

The handoff service (its tickets, transcripts, audit details), the action
server's outbox and Rasa's own stores (tracker store, SQL event broker) are
purged at the same age, read by each process from the same variable, so
that after it nothing of a conversation is left anywhere.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PURGE_AFTER_DAYS", "PURGE_AFTER_DAYS_VARIABLE", "SECONDS_PER_DAY", "purge_cutoff"]

# The environment variable every process reads the age from, and its default.
PURGE_AFTER_DAYS_VARIABLE: Final = "HANDOFF_PURGE_AFTER_DAYS"
PURGE_AFTER_DAYS: Final = 365
SECONDS_PER_DAY: Final = 86400


def purge_cutoff(now_seconds: float, purge_after_days: int) -> float:
    """The epoch second before which a conversation's last activity means
    it is purged."""
    if purge_after_days < 0:
        raise ValueError("the purge age cannot be negative")
    return now_seconds - purge_after_days * SECONDS_PER_DAY
