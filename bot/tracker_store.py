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

On SQLite (`make run`'s embedded default) the store and Rasa's SQL broker
keep their files in WAL mode with ``synchronous=NORMAL``, on a pool of open
connections: Rasa opened the file anew for every read and save, and each
commit in its default journal mode waited for the disk twice, on the
server's only thread (21 % of a busy Rasa's samples in `make
bench-profile`). In WAL mode a commit is an append to the ``-wal`` file;
after a killed process nothing committed is lost, and after a power cut at
most the last commits are (the file stays whole). PostgreSQL is left as
Rasa configures it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import kept_sessions, schema_checks
from support_rules.masking import mask_secrets

__all__ = ["RedactingSQLTrackerStore", "embedded_sqlite", "redact", "MASK", "REDACTED_SLOT"]

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def embedded_sqlite(engine: sa.engine.Engine) -> sa.engine.Engine:
    """For a SQLite file: an engine on the same file with WAL, NORMAL
    synchronisation and a pool of open connections (the module's docstring
    says why); any other engine as it is."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    engine.dispose()
    pooled = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=8,
        connect_args={"check_same_thread": False, "timeout": 30},
    )
    sa.event.listen(pooled, "connect", _sqlite_pragmas)
    return pooled


class RedactingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        schema_checks.install()  # the Rasa server builds this store: see bot/schema_checks.py
        kept_sessions.install()
        super().__init__(*args, **kwargs)
        rasas = cast(sa.engine.Engine, getattr(self, "engine"))  # noqa: B009 (Rasa's attribute is untyped)
        self.engine = embedded_sqlite(rasas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        broker = self.event_broker
        if isinstance(broker, SQLEventBroker):
            broker.engine = embedded_sqlite(broker.engine)
            broker.sessionmaker = sa.orm.session.sessionmaker(bind=broker.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact(tracker.events)
        if not self.domain:  # Rasa's retrieve finds nothing without a domain: its own path
            await super().save(tracker)
            return
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            new_events = [_Serialised(event) for event in itertools.islice(tracker.events, stored, len(tracker.events))]
            if self.event_broker is not None:
                await self._publish(self.event_broker, new_events, tracker.sender_id)
            session.add_all([self._row(tracker.sender_id, event) for event in new_events])
            session.commit()

    def _row(self, sender_id: str, new: _Serialised) -> Any:
        """The row Rasa's ``SQLTrackerStore.save`` inserts for the event."""
        data = new.data
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=new.event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=new.text,
        )

    async def _publish(self, event_broker: EventBroker, new_events: list[_Serialised], sender_id: str) -> None:
        # Rasa's SQL broker as it is (not a subclass with its own publish)
        if type(event_broker).publish is not SQLEventBroker.publish or len(new_events) < 2:
            await self._stream_new_events(event_broker, [new.event for new in new_events], sender_id)
            return
        rows = [event_broker.SQLBrokerEvent(sender_id=sender_id, data=new.broker_text(sender_id)) for new in new_events]
        with event_broker.session_scope() as session:
            session.add_all(rows)
            session.commit()


class _Serialised:
    """An event with its dict and JSON text, made once for the table and the
    broker (Rasa makes both twice: ``as_dict`` and ``json.dumps`` were 8 %
    of a busy Rasa's samples)."""

    __slots__ = ("event", "data", "text")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.data = event.as_dict()
        self.text = json.dumps(self.data)

    def broker_text(self, sender_id: str) -> str:
        """``json.dumps({"sender_id": sender_id, **data})``, what Rasa's
        ``_stream_new_events`` publishes, from the text already made."""
        if "sender_id" in self.data or self.text == "{}":
            return json.dumps({"sender_id": sender_id, **self.data})
        return '{"sender_id": ' + json.dumps(sender_id) + ", " + self.text[1:]
