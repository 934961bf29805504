"""An SQL tracker store that never stores birth dates, card numbers,
IBANs, passwords, one-time codes or customer tokens.

The age check only needs the outcome: the message that answered "what is
your date of birth?" is read by the action server during that turn and is
replaced by a mask before the tracker is saved or its events are published
to the event broker. Every other customer message is saved with its
secrets masked (support_rules.masking). Configured in endpoints.yml as
``type: bot.tracker_store.RedactingSQLTrackerStore`` with the usual SQL
tracker store keys.

With Rasa's SQL event broker, the events a turn adds are published in one
transaction instead of one each (Rasa commits every event on its own, and a
commit waits for the disk: the largest cost of a turn in the benchmark's
profile, docs/BENCHMARKS.md). The broker's table gets the same rows in the
same order; a follower of the table sees a turn's events appear together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import schema_checks
from support_rules.masking import mask_secrets

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
    requested: str | None = None
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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        schema_checks.install()  # the Rasa server builds this store: see bot/schema_checks.py
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact(tracker.events)
        await super().save(tracker)

    async def _stream_new_events(self, event_broker: EventBroker, new_events: list[Event], sender_id: str) -> None:
        # Rasa's SQL broker as it is (not a subclass with its own publish)
        if type(event_broker).publish is not SQLEventBroker.publish or len(new_events) < 2:
            await super()._stream_new_events(event_broker, new_events, sender_id)
            return
        rows = []
        for event in new_events:
            body = {"sender_id": sender_id}  # what Rasa's _stream_new_events publishes
            body.update(event.as_dict())
            rows.append(event_broker.SQLBrokerEvent(sender_id=sender_id, data=json.dumps(body)))
        with event_broker.session_scope() as session:
            session.add_all(rows)
            session.commit()
