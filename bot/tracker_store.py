"""An SQL tracker store that never stores birth dates, card numbers,
IBANs, passwords, one-time codes or customer tokens.

The age check only needs the outcome: the message that answered "what is
your date of birth?" is read by the action server during that turn and is
replaced by a mask before the tracker is saved or its events are published
to the event broker. Every other customer message is saved with its
secrets masked (actions.core.masking). Configured in endpoints.yml as
``type: bot.tracker_store.RedactingSQLTrackerStore`` with the usual SQL
tracker store keys.
"""
from __future__ import annotations

from typing import Iterable, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.core.masking import mask_secrets
from bot import schema_checks

schema_checks.install()  # the Rasa server loads this store: see bot/schema_checks.py

__all__ = ["RedactingSQLTrackerStore", "redact", "MASK", "REDACTED_SLOT"]

MASK = "***"
REDACTED_SLOT = "birth_date"
# The signed customer token comes with every message (actions read it
# during the turn); it is a credential, so it is never stored.
TOKEN_METADATA_KEY = "customer_token"
SESSION_METADATA_SLOT = "session_started_metadata"  # Rasa copies the first message's metadata here


def _set_text(event: UserUttered, text: str) -> None:
    event.text = text
    if isinstance(event.parse_data, dict) and "text" in event.parse_data:
        event.parse_data["text"] = text


def redact(events: Iterable[Event]) -> None:
    """Mask, in place, the answers to the birth-date question and the
    secrets in every other customer message."""
    requested: Optional[str] = None
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        elif isinstance(event, SlotSet) and event.key == SESSION_METADATA_SLOT and isinstance(event.value, dict):
            event.value.pop(TOKEN_METADATA_KEY, None)
        elif isinstance(event, ActiveLoop) and event.name is None:
            requested = None
        elif isinstance(event, UserUttered):
            parsed = event.parse_data.get("metadata") if isinstance(event.parse_data, dict) else None
            for metadata in (event.metadata, parsed):  # Rasa keeps a copy in the parse data
                if isinstance(metadata, dict):
                    metadata.pop(TOKEN_METADATA_KEY, None)
            if event.text:
                _set_text(event, MASK if requested == REDACTED_SLOT else mask_secrets(event.text))


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        redact(tracker.events)
        await super().save(tracker)
