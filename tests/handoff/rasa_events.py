"""Rasa's SQL event broker, written and read back as the broker tests need.

Rows are written exactly as Rasa's SQLEventBroker writes them (its table,
one committed insert per event, ``data`` = ``json.dumps(event)``), to a real
SQLite file or a real PostgreSQL database; the handoff database is SQLite
and PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.broker.common import Backoff
from handoff.broker.sql import SqlEventSource, cursor_name
from handoff.live_bus import InMemoryLiveBus
from handoff.models import BrokerCursor, ConversationEvent, Message, Ticket
from handoff.repo.messages import list_messages
from handoff.schemas import SummaryValidator
from handoff.services import tickets as tickets_svc
from handoff.services.handoffs import create_handoff
from handoff.services.queue_positions import QueueRules
from handoff.settings import REPO_ROOT
from tests.handoff.factories import summary

VALIDATOR = SummaryValidator(REPO_ROOT / "schemas" / "handoff_summary.schema.json")
T0 = float(int(time.time()) - 3600)  # summaries cover up to T0; later customer lines belong to the ticket


# --- Rasa's side -----------------------------------------------------------


def rasa_events_table() -> Table:
    """rasa/core/brokers/sql.py: SQLBrokerEvent."""
    return Table(
        "events",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255)),
        Column("data", Text),
    )


def user_event(
    conversation_id: str, text: str, ts: float, *, intent: str = "deposit_problem", confidence: float = 0.91
) -> dict[str, Any]:
    """What Rasa 3.6 publishes for a customer message (tracker store adds sender_id)."""
    message_id = uuid.uuid4().hex
    return {
        "sender_id": conversation_id,
        "event": "user",
        "timestamp": ts,
        "metadata": {"model_id": "m1", "assistant_id": "triage"},
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "message_id": message_id,
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        },
        "input_channel": "socketio",
        "message_id": message_id,
    }


def bot_event(conversation_id: str, text: str, ts: float, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "sender_id": conversation_id,
        "event": "bot",
        "timestamp": ts,
        "metadata": metadata or {"utter_action": "utter_greet"},
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": None,
            "attachment": None,
            "image": None,
            "custom": None,
        },
    }


def other_events(conversation_id: str, ts: float) -> list[dict[str, Any]]:
    return [
        {
            "sender_id": conversation_id,
            "event": "action",
            "timestamp": ts,
            "name": "action_listen",
            "policy": None,
            "confidence": None,
            "action_text": None,
            "hide_rule_turn": False,
        },
        {"sender_id": conversation_id, "event": "slot", "timestamp": ts, "name": "language", "value": "tr"},
        {"sender_id": conversation_id, "event": "session_started", "timestamp": ts},
        {"sender_id": conversation_id, "event": "pause", "timestamp": ts},
    ]


class SqlBroker:
    """Writes rows the way Rasa's SQLEventBroker.publish does (sync SQLAlchemy)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite+aiosqlite:///{path}"
        self.table = rasa_events_table()
        self._engine: Engine | None = None

    def create(self) -> None:
        self._engine = create_engine(f"sqlite:///{self.path}")
        self.table.metadata.create_all(self._engine)

    def publish(self, event: dict[str, Any]) -> None:
        self.raw(event.get("sender_id"), json.dumps(event))

    def raw(self, sender_id: str | None, data: str | None) -> None:
        if self._engine is None:
            self.create()
        assert self._engine is not None
        with self._engine.begin() as conn:
            conn.execute(insert(self.table).values(sender_id=sender_id, data=data))

    async def put(self, *events: dict[str, Any]) -> None:
        """Publish from another thread, as Rasa's process would: a blocking
        write on the event loop would stall the follower mid-read."""
        for event in events:
            await asyncio.to_thread(self.publish, event)

    async def put_raw(self, sender_id: str | None, data: str | None) -> None:
        await asyncio.to_thread(self.raw, sender_id, data)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


# --- our side --------------------------------------------------------------


def source(
    broker_url: str, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, **kw: Any
) -> SqlEventSource:
    kw.setdefault("poll_interval", 0.02)
    kw.setdefault("backoff", Backoff(0.02, 0.2))
    return SqlEventSource(events_url=broker_url, sessionmaker=sessionmaker, bus=bus, **kw)


async def drain(src: SqlEventSource) -> None:
    """Step until a step moves past nothing."""
    while await src.step():
        pass


async def transcript(
    sessionmaker: async_sessionmaker[AsyncSession], conversation_id: str | None = None
) -> list[ConversationEvent]:
    async with sessionmaker() as session:
        stmt = select(ConversationEvent).order_by(ConversationEvent.id)
        if conversation_id is not None:
            stmt = stmt.where(ConversationEvent.conversation_id == conversation_id)
        return list((await session.execute(stmt)).scalars())


async def ticket_messages(sessionmaker: async_sessionmaker[AsyncSession], ticket: Ticket) -> list[Message]:
    async with sessionmaker() as session:
        return await list_messages(session=session, ticket_id=ticket.id)


async def cursor(sessionmaker: async_sessionmaker[AsyncSession], url: str) -> int | None:
    async with sessionmaker() as session:
        return await session.scalar(select(BrokerCursor.position).where(BrokerCursor.name == cursor_name(url)))


async def open_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], conversation_id: str, *, claimed_by: Any = None
) -> Ticket:
    """A ticket whose summary covers the conversation up to T0."""
    data = summary("finance", conversation_id=conversation_id)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0))
    for line in data["transcript"]:
        line["timestamp"] = stamp
    async with sessionmaker() as session, session.begin():
        result = await create_handoff(
            session=session, summary=data, idempotency_key="k1", validator=VALIDATOR, rules=QueueRules()
        )
        ticket = result.ticket
        if claimed_by is not None:
            ticket = await tickets_svc.claim(session=session, agent=claimed_by, number=ticket.number)
    return ticket


def customer_line_update(ticket: Ticket, assignee_id: int) -> dict[str, Any]:
    """The live update the console gets once a customer line reached
    ``ticket`` (one of ``open_ticket``'s: finance's, claimed)."""
    return {
        "type": "message.new",
        "ticket_number": ticket.number,
        "department": "finance",
        "assignee_id": assignee_id,
        "sender": "customer",
    }


@contextlib.asynccontextmanager
async def refusing_line(engine: AsyncEngine, text: str) -> AsyncIterator[None]:
    """While open, the handoff database refuses the transcript line ``text``
    (a trigger), the way it refuses a line whose ticket was purged meanwhile."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if postgres:
            await conn.execute(
                sql_text(
                    "CREATE OR REPLACE FUNCTION refuse_line() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.text = '{text}' THEN RAISE check_violation USING MESSAGE = 'refused'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                sql_text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON conversation_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_line()"
                )
            )
        else:
            await conn.execute(
                sql_text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON conversation_events "
                    f"WHEN NEW.text = '{text}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(sql_text("DROP TRIGGER refuse" + (" ON conversation_events" if postgres else "")))


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The first word of every statement ``engine`` runs while open (SAVEPOINT, INSERT, …)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", count)
