"""An SQL tracker store that never stores a customer's birth date.

The age check only needs the outcome. The message that answered "what is
your date of birth?" is read by the action server during that turn, and is
replaced by a mask before the tracker is saved or its events are published
to the event broker. Configured in endpoints.yml as
``type: bot.tracker_store.RedactingSQLTrackerStore`` with the usual SQL
tracker store keys.
"""
from __future__ import annotations

from typing import Iterable, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

__all__ = ["RedactingSQLTrackerStore", "redact_birth_dates", "MASK", "REDACTED_SLOT"]

MASK = "***"
REDACTED_SLOT = "birth_date"


def redact_birth_dates(events: Iterable[Event]) -> int:
    """Mask, in place, every customer message sent while the bot was asking
    for the birth date; returns how many were masked."""
    requested: Optional[str] = None
    masked = 0
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        elif isinstance(event, ActiveLoop) and event.name is None:
            requested = None
        elif isinstance(event, UserUttered) and requested == REDACTED_SLOT and event.text != MASK:
            event.text = MASK
            if isinstance(event.parse_data, dict) and "text" in event.parse_data:
                event.parse_data["text"] = MASK
            masked += 1
    return masked


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        redact_birth_dates(tracker.events)
        await super().save(tracker)
