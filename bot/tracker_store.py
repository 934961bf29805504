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

Reads and saves run on a thread of the store's own, one at a time, so the
event loop serves other conversations while one waits for the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import schema_checks
from support_rules.masking import mask_secrets

__all__ = ["RedactingSQLTrackerStore", "redact", "MASK", "REDACTED_SLOT"]

T = TypeVar("T")

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
        # Rasa's store reads and commits on the event loop: every other
        # conversation waited for each disk write. Reads and saves run on
        # one thread of their own instead, one at a time in the order asked
        # (as on the loop). An in-memory SQLite database exists once per
        # thread, so it stays on the loop.
        database = self.engine.url.database
        in_memory = self.engine.dialect.name == "sqlite" and database in (None, "", ":memory:")
        self._db_thread = None if in_memory else ThreadPoolExecutor(1, thread_name_prefix="tracker-store")

    async def _off_loop(self, work: Callable[[], T]) -> T:
        """``work`` on the store's thread. A caller cancelled meanwhile waits
        for it to finish, as it did when the work blocked the loop: a save
        is never left half done."""
        if self._db_thread is None:
            return work()
        running = asyncio.get_running_loop().run_in_executor(self._db_thread, work)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await running
            raise

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._off_loop(lambda: self._read_tracker(sender_id, fetch_events_from_all_sessions=False))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._off_loop(lambda: self._read_tracker(conversation_id, fetch_events_from_all_sessions=True))

    def _read_tracker(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's ``SQLTrackerStore._retrieve`` (which never awaits), as a plain function."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact(tracker.events)
        if not self.domain:  # Rasa's retrieve finds nothing without a domain: its own path
            await super().save(tracker)
            return
        sender_id, events, broker = tracker.sender_id, list(tracker.events), self.event_broker
        if broker is None or _is_rasas_sql_broker(broker):
            # one trip to the thread: count, publish, store
            await self._off_loop(lambda: self._store_new(sender_id, events, broker))
            return
        # another broker (RabbitMQ) publishes on the loop, between the count and the insert
        new_events = await self._off_loop(lambda: self._new_events(sender_id, events))
        await self._stream_new_events(broker, new_events, sender_id)
        await self._off_loop(lambda: self._insert(sender_id, new_events))

    def _new_events(self, sender_id: str, events: list[Event]) -> list[Event]:
        with self.session_scope() as session:
            return self._not_stored(session, sender_id, events)

    def _not_stored(self, session: Any, sender_id: str, events: list[Event]) -> list[Event]:
        """The events after those stored since the latest session start."""
        stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
        return list(itertools.islice(events, stored, len(events)))

    def _store_new(self, sender_id: str, events: list[Event], broker: EventBroker | None) -> None:
        with self.session_scope() as session:
            new_events = self._not_stored(session, sender_id, events)
            if broker is not None:
                _publish_in_one_commit(broker, new_events, sender_id)
            session.add_all([self._row(sender_id, event) for event in new_events])
            session.commit()

    def _insert(self, sender_id: str, new_events: list[Event]) -> None:
        with self.session_scope() as session:
            session.add_all([self._row(sender_id, event) for event in new_events])
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
        if not _is_rasas_sql_broker(event_broker):
            await super()._stream_new_events(event_broker, new_events, sender_id)
            return
        await self._off_loop(lambda: _publish_in_one_commit(event_broker, new_events, sender_id))


def _is_rasas_sql_broker(broker: EventBroker) -> bool:
    """Rasa's SQL broker as it is (not a subclass with its own publish)."""
    return isinstance(broker, SQLEventBroker) and type(broker).publish is SQLEventBroker.publish


def _publish_in_one_commit(broker: Any, new_events: list[Event], sender_id: str) -> None:
    """The rows Rasa's ``_stream_new_events`` and ``SQLEventBroker.publish``
    insert, one commit for all of them."""
    if not new_events:
        return
    rows = []
    for event in new_events:
        body = {"sender_id": sender_id}  # what Rasa's _stream_new_events publishes
        body.update(event.as_dict())
        rows.append(broker.SQLBrokerEvent(sender_id=sender_id, data=json.dumps(body)))
    with broker.session_scope() as session:
        session.add_all(rows)
        session.commit()
