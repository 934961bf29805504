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

A read is one small query when nothing changed: the store keeps, for the
``KEPT_CONVERSATIONS`` conversations it used last, the rows of the latest
session that it read or wrote, with a mark of the conversation's rows (its
newest row id, how many rows it has, its newest timestamp). A ``retrieve``
asks for the mark only (``max(id)``, ``count(id)``, ``max(timestamp)`` over
Rasa's ``sender_id`` index); when it is still the kept one, the tracker is
rebuilt from the kept rows, otherwise (another replica's turn, an agent's
reply through the HTTP API on another replica, a row committed late with a
lower id, rows deleted by retention or moved in time) the rows are read
again as Rasa reads them. A save keeps its own rows only when the mark
after its insert shows nobody else wrote, no new session began and every
new event falls inside Rasa's session filter. Every ``retrieve`` builds a
tracker of its own, so a turn that fails before its save leaves nothing
behind. Rasa's ``retrieve`` read every row of the session through the ORM
each time (about 10 % of a busy Rasa's samples at 50 customers, `make
bench-profile`).

On SQLite (`make run`'s embedded default) the store and Rasa's SQL broker
keep their files in WAL mode, on a pool of open connections: Rasa opened
the file anew for every read and save, and each commit in its default
journal mode waited for the disk twice, on the server's only thread (21 %
of a busy Rasa's samples in `make bench-profile`). In WAL mode a commit is
one append to the ``-wal`` file and one flush (``synchronous=FULL``, kept:
after a power cut nothing committed is lost either, so the handoff
service's cursor on the broker's ids never runs ahead of the file).
PostgreSQL is left as Rasa configures it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, NamedTuple, cast

import orjson
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import installs
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


# a number orjson may read as a float: beyond 64 bits it gives a float, not an int
_LONG_NUMBER = re.compile(r"\d{19}")


def _loads(text: str) -> Any:
    """A row's event, read by orjson (half the time of json's read, which
    was 5 % of a busy Rasa's samples: every message rebuilds its tracker
    from the rows). Read by json, as Rasa reads it: a row with a run of 19
    digits or more (an integer beyond 64 bits, which orjson turns into a
    float; in a string it only costs the slower read), and what orjson
    refuses and Python's json writes (NaN, Infinity)."""
    if _LONG_NUMBER.search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def embedded_sqlite(engine: sa.engine.Engine) -> sa.engine.Engine:
    """For a SQLite file: an engine on the same file in WAL mode on a pool
    of open connections (the module's docstring says why); any other
    engine as it is."""
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
        installs.install()  # the Rasa server builds this store: see bot/installs.py
        super().__init__(*args, **kwargs)
        rasas = cast(sa.engine.Engine, getattr(self, "engine"))  # noqa: B009 (Rasa's attribute is untyped)
        self.engine = embedded_sqlite(rasas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        broker = self.event_broker
        if isinstance(broker, SQLEventBroker):
            broker.engine = embedded_sqlite(broker.engine)
            broker.sessionmaker = sa.orm.session.sessionmaker(bind=broker.engine)
        self._rows: OrderedDict[str, _KeptRows] = OrderedDict()
        self._statements = _Statements(self.SQLEvent.__table__)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Rasa's tracker of the latest session, from the rows this store
        last read or wrote when the conversation has no newer row."""
        if not self.domain:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            texts = self._current_rows(session, sender_id)
        if not texts:
            return None
        return DialogueStateTracker.from_dict(sender_id, [_loads(text) for text in texts], self.domain.slots)

    def _current_rows(self, session: Any, sender_id: str) -> list[str]:
        """The ``data`` of the rows Rasa's ``retrieve`` reads (the latest
        session's, in id order): the kept copy when the conversation's rows
        are still those it was made from, else read and kept."""
        mark = self._mark(session, sender_id)
        kept = self._rows.get(sender_id)
        if kept is not None and mark is not None and kept.mark == mark:
            self._rows.move_to_end(sender_id)
            return kept.texts
        self._rows.pop(sender_id, None)
        if mark is None:
            return []
        rows = (
            self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            .with_entities(self.SQLEvent.id, self.SQLEvent.data, self.SQLEvent.type_name, self.SQLEvent.timestamp)
            .all()
        )
        texts = [row.data for row in rows]
        if rows and rows[-1].id == mark.newest_id:
            starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
            self._keep(sender_id, _KeptRows(texts, mark, max(starts) if starts else None))
        return texts

    def _mark(self, session: Any, sender_id: str) -> _Mark | None:
        """What a change to the conversation's rows changes: its newest row
        id, how many rows it has, its newest timestamp (None: no rows)."""
        newest_id, count, newest_time = session.execute(self._statements.mark, {"sender_id": sender_id}).one()
        if newest_id is None:
            return None
        return _Mark(int(newest_id), int(count), float(newest_time or 0.0))

    def _keep(self, sender_id: str, rows: _KeptRows) -> None:
        self._rows[sender_id] = rows
        self._rows.move_to_end(sender_id)
        while len(self._rows) > KEPT_CONVERSATIONS:
            self._rows.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        redact(tracker.events)
        if not self.domain:  # Rasa's retrieve finds nothing without a domain: its own path
            await super().save(tracker)
            return
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            current = self._current_rows(session, sender_id)
            kept = self._rows.pop(sender_id, None)  # kept again below only when it is sure to be right
            stored = len(current)  # the events stored since the latest session start, as Rasa counts them
            new_events = [_Serialised(event) for event in itertools.islice(tracker.events, stored, len(tracker.events))]
            if self.event_broker is not None:
                await self._publish(self.event_broker, new_events, sender_id)
            last_id = self._insert(session, [self._row(sender_id, event) for event in new_events])
            after = self._mark(session, sender_id) if last_id is not None and kept is not None else None
            session.commit()
        if kept is None or after is None or last_id is None or not _appended(kept, after, last_id, new_events):
            return
        self._keep(sender_id, _KeptRows(kept.texts + [new.text for new in new_events], after, kept.session_start))

    def _row(self, sender_id: str, new: _Serialised) -> dict[str, Any]:
        """The row Rasa's ``SQLTrackerStore.save`` inserts for the event."""
        data = new.data
        return {
            "sender_id": sender_id,
            "type_name": new.event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": new.text,
        }

    def _insert(self, session: Any, rows: list[dict[str, Any]]) -> int | None:
        """The rows in order, with the statement made once (the ORM's
        flush of one object per row cost more than the inserts); returns the
        last row's id (None: no rows)."""
        if not rows:
            return None
        insert = self._statements.insert
        if len(rows) > 1:
            session.execute(insert, rows[:-1])
        return int(session.execute(insert, rows[-1]).inserted_primary_key[0])

    async def _publish(self, event_broker: EventBroker, new_events: list[_Serialised], sender_id: str) -> None:
        # Rasa's SQL broker as it is (not a subclass with its own publish)
        if type(event_broker).publish is not SQLEventBroker.publish or len(new_events) < 2:
            await self._stream_new_events(event_broker, [new.event for new in new_events], sender_id)
            return
        rows = [{"sender_id": sender_id, "data": new.broker_text(sender_id)} for new in new_events]
        with event_broker.session_scope() as session:
            session.execute(_BROKER_INSERT, rows)
            session.commit()


class _Statements:
    """The store's two statements on Rasa's ``events`` table, made once:
    SQLAlchemy builds an ORM query anew on every call and finds its
    compiled form by a key it computes from the whole query each time (the
    mark's query was about 11 % of a busy Rasa's samples, `make
    bench-profile` at 50 customers; 207 against 31 µs a query here)."""

    def __init__(self, table: sa.Table) -> None:
        column = table.c
        self.mark = sa.select(sa.func.max(column.id), sa.func.count(column.id), sa.func.max(column.timestamp)).where(
            column.sender_id == sa.bindparam("sender_id")
        )
        self.insert = sa.insert(table)


# the insert of Rasa's SQL broker's rows (one table, the class's), made once
_BROKER_INSERT = sa.insert(SQLEventBroker.SQLBrokerEvent.__table__)


KEPT_CONVERSATIONS = 500  # the conversations whose rows a store keeps (least recently used go first)


class _Mark(NamedTuple):
    newest_id: int
    rows: int
    newest_time: float


class _KeptRows(NamedTuple):
    texts: list[str]  # the rows' data, in id order, of the latest session
    mark: _Mark  # the conversation's rows when they were read or written
    session_start: float | None  # the latest SessionStarted's timestamp (Rasa's filter)


def _appended(kept: _KeptRows, after: _Mark, last_id: int, new_events: list[_Serialised]) -> bool:
    """Whether the kept rows plus this save's are what Rasa's next read
    returns: nobody else wrote meanwhile (one more row per event, the last
    one ours), no new session began, and every new event falls inside
    Rasa's session filter (timestamp at or after the session's start)."""
    if after.rows != kept.mark.rows + len(new_events) or after.newest_id != last_id:
        return False
    for new in new_events:
        if new.event.type_name == SessionStarted.type_name:
            return False  # Rasa's next read starts from it: read it again then
        stamp = new.data.get("timestamp")
        if stamp is None or (kept.session_start is not None and float(stamp) < kept.session_start):
            return False
    return True


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
