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

A save reads the conversation once: Rasa's own ``save`` rebuilt the whole
tracker from the database to find which events are new for the broker
(``stream_events``), then counted the stored events again to find which to
insert. Both answers are the same number (the events stored since the
latest session start), so it is counted once and the same new events go
to the broker and to the table, in Rasa's order (broker first).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

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
        if not self.domain:  # Rasa's retrieve finds nothing without a domain: its own path
            await super().save(tracker)
            return
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            if self.event_broker is not None:
                await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
            session.add_all([self._row(tracker.sender_id, event) for event in new_events])
            session.commit()

    def _row(self, sender_id: str, event: Event) -> Any:
        """The row Rasa's ``SQLTrackerStore.save`` inserts for ``event``."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

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
