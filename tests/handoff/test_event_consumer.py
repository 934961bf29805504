"""Following Rasa's SQL event broker: transcripts, customer messages to
tickets, at-least-once delivery, the cursor, malformed rows.

Rows are written exactly as Rasa's SQLEventBroker writes them (its table,
one committed insert per event, ``data`` = ``json.dumps(event)``), to a real
SQLite file or a real PostgreSQL database; the handoff database is SQLite
and PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from handoff.app import create_app
from handoff.broker import ConsumerTask
from handoff.broker import common
from handoff.broker.common import Backoff
from handoff.broker.sql import SqlEventSource, cursor_name
from handoff.db import make_engine, make_sessionmaker
from handoff.events import InMemoryEventBus
from handoff.migrate import upgrade
from handoff.models import BrokerCursor, ConversationEvent, Message, Ticket
from handoff.repo.audit import list_audit
from handoff.repo.messages import list_messages
from handoff.schemas import SummaryValidator
from handoff.services import tickets as tickets_svc
from handoff.services.consumer import MalformedEvent, event_key, message_source_id, parse_event
from handoff.services.bootstrap import sync_departments
from handoff.services.handoffs import QueueRules, create_handoff
from handoff.settings import REPO_ROOT, SettingsError, load_settings
from tests.handoff.conftest import PG_ADMIN_URL, Collected, Running, Seed, _empty
from tests.handoff.factories import summary
from tests.handoff.helpers import free_port, live_events, login, make_settings, next_event

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


def user_event(conversation_id: str, text: str, ts: float, *, intent: str = "deposit_problem", confidence: float = 0.91) -> dict[str, Any]:
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
        "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None, "custom": None},
    }


def other_events(conversation_id: str, ts: float) -> list[dict[str, Any]]:
    return [
        {"sender_id": conversation_id, "event": "action", "timestamp": ts, "name": "action_listen", "policy": None, "confidence": None, "action_text": None, "hide_rule_turn": False},
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


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[SqlBroker]:
    b = SqlBroker(tmp_path / "events.db")
    yield b
    b.close()


# --- our side --------------------------------------------------------------

def source(broker_url: str, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, **kw: Any) -> SqlEventSource:
    kw.setdefault("poll_interval", 0.02)
    kw.setdefault("backoff", Backoff(0.02, 0.2))
    return SqlEventSource(events_url=broker_url, sessionmaker=sessionmaker, bus=bus, **kw)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def drain(src: SqlEventSource) -> None:
    """Step until a step moves past nothing."""
    while await src.step():
        pass


async def transcript(sessionmaker: async_sessionmaker[AsyncSession], conversation_id: str | None = None) -> list[ConversationEvent]:
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


async def open_ticket(sessionmaker: async_sessionmaker[AsyncSession], conversation_id: str, *, claimed_by: Any = None) -> Ticket:
    """A ticket whose summary covers the conversation up to T0."""
    data = summary("finance", conversation_id=conversation_id)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0))
    for line in data["transcript"]:
        line["timestamp"] = stamp
    async with sessionmaker() as session, session.begin():
        result = await create_handoff(session=session, summary=data, idempotency_key="k1", validator=VALIDATOR, rules=QueueRules())
        ticket = result.ticket
        if claimed_by is not None:
            ticket = await tickets_svc.claim(session=session, agent=claimed_by, number=ticket.number)
    return ticket


# --- plain functions -------------------------------------------------------

def test_event_key_is_canonical_and_distinct() -> None:
    a = user_event("c1", "merhaba", 1700000000.123456)
    shuffled = json.loads(json.dumps(dict(reversed(list(a.items())))))
    assert event_key(a) == event_key(shuffled) == parse_event(json.dumps(a).encode()).key
    b = {**a, "timestamp": 1700000000.123457}
    assert event_key(a) != event_key(b)
    assert len(event_key(a)) == 64 and message_source_id(event_key(a)) == f"rasa:{event_key(a)}"


def test_parse_event_kinds() -> None:
    customer = parse_event(json.dumps(user_event("c1", "param yok", 1700000000.5)))
    assert (customer.kind, customer.text, customer.channel, customer.intent, customer.confidence) == (
        "customer", "param yok", "socketio", "deposit_problem", 0.91)
    assert customer.timestamp.timestamp() == pytest.approx(1700000000.5)
    assert parse_event(bot_event("c1", "hi", 1.0)).kind == "bot"
    assert parse_event(bot_event("c1", "hi", 1.0, {"sender": "agent", "agent": "Fatma"})).kind == "agent"
    assert parse_event(bot_event("c1", "hi", 1.0, {"kind": "notice"})).kind == "notice"
    for event in other_events("c1", 1.0) + [bot_event("c1", "", 1.0), {**bot_event("c1", "x", 1.0), "text": None}]:
        assert parse_event(event).kind is None
    assert parse_event({"event": "user", "text": "x", "timestamp": 1.0}, sender_id="from-column").conversation_id == "from-column"


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", "not json", "[1, 2]", "null", json.dumps({"event": "user", "text": "no sender"}),
     json.dumps({"sender_id": "c", "text": "no type"}), json.dumps({"sender_id": "c" * 256, "event": "user"}),
     json.dumps({"sender_id": "c", "event": "user", "timestamp": "yesterday"}),
     json.dumps({"sender_id": "c", "event": "user", "timestamp": 1e300})],
)
def test_parse_event_rejects_malformed(raw: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(raw)


# --- the SQL broker follower -----------------------------------------------

async def test_bot_only_conversation_is_kept(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, collected: Collected) -> None:
    conv = "bot-only-1"
    await broker.put(other_events(conv, T0)[2])
    await broker.put(user_event(conv, "şifremi unuttum", T0 + 1, intent="faq_password", confidence=0.87))
    for event in other_events(conv, T0 + 2):
        await broker.put(event)
    await broker.put(bot_event(conv, "Şifre sıfırlama bağlantısı…", T0 + 3))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)

    lines = await transcript(sessionmaker, conv)
    assert [(line.kind, line.text) for line in lines] == [("customer", "şifremi unuttum"), ("bot", "Şifre sıfırlama bağlantısı…")]
    assert (lines[0].intent, lines[0].confidence, lines[0].channel) == ("faq_password", pytest.approx(0.87), "socketio")
    assert lines[0].timestamp.timestamp() == pytest.approx(T0 + 1)
    assert await cursor(sessionmaker, broker.url) == 7 and src.consumed == 7
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
    assert collected.events == []


async def test_customer_message_reaches_the_assignee(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, collected: Collected, seed: Seed) -> None:
    conv = "handed-off-1"
    ticket = await open_ticket(sessionmaker, conv, claimed_by=seed.agents["fin"])
    await broker.put(user_event(conv, "Merhaba, param yansımadı", T0))  # in the summary already
    await broker.put(user_event(conv, "orada mısınız?", T0 + 5))
    await broker.put(bot_event(conv, "Merhaba, ben Fatma", T0 + 6, {"sender": "agent", "agent": "Fatma Finans"}))
    await broker.put(bot_event(conv, "Sıranız: 1", T0 + 7, {"kind": "notice"}))
    await broker.put(user_event("someone-else", "unrelated", T0 + 8))
    await drain(source(broker.url, sessionmaker, bus))

    texts = [(m.sender, m.text) for m in await ticket_messages(sessionmaker, ticket)]
    assert texts[-1] == ("customer", "orada mısınız?")
    assert texts.count(("customer", "Merhaba, param yansımadı")) == 1  # from the summary only
    assert not any(text == "Merhaba, ben Fatma" for _, text in texts)  # agent replies are stored by the reply endpoint
    assert [line.kind for line in await transcript(sessionmaker, conv)] == ["customer", "customer", "agent", "notice"]
    await until(lambda: _true(len(collected.events) >= 1))
    await asyncio.sleep(0.05)
    assert collected.events == [
        {"type": "message.new", "ticket_number": ticket.number, "department": "finance", "assignee_id": seed.agents["fin"].id, "sender": "customer"}
    ]


async def _true(value: bool) -> bool:
    return value


async def test_queued_ticket_gets_messages_and_closed_one_does_not(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, collected: Collected, seed: Seed) -> None:
    queued = await open_ticket(sessionmaker, "queued-1")
    closed = await open_ticket(sessionmaker, "closed-1", claimed_by=seed.agents["fin"])
    async with sessionmaker() as session, session.begin():
        await tickets_svc.resolve(session=session, agent=seed.agents["fin"], number=closed.number, note=None)
    await broker.put(user_event("queued-1", "hâlâ bekliyorum", T0 + 10))
    await broker.put(user_event("closed-1", "teşekkürler", T0 + 10))
    await drain(source(broker.url, sessionmaker, bus))

    assert (await ticket_messages(sessionmaker, queued))[-1].text == "hâlâ bekliyorum"
    assert "teşekkürler" not in [m.text for m in await ticket_messages(sessionmaker, closed)]
    assert len(await transcript(sessionmaker, "closed-1")) == 1  # the transcript keeps it all the same
    await until(lambda: _true(len(collected.events) >= 1))
    assert collected.events[0]["ticket_number"] == queued.number and collected.events[0]["assignee_id"] is None


async def test_same_event_twice_is_stored_once(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, collected: Collected, seed: Seed) -> None:
    conv = "dup-1"
    ticket = await open_ticket(sessionmaker, conv)
    event = user_event(conv, "tamam", T0 + 1)
    await broker.put(event)
    await broker.put(event)  # at-least-once: published again
    await broker.put(user_event(conv, "tamam", T0 + 2))  # same text, another message
    src = source(broker.url, sessionmaker, bus)
    await drain(src)

    assert src.consumed == 3
    assert [line.text for line in await transcript(sessionmaker, conv)] == ["tamam", "tamam"]
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)].count("tamam") == 2
    await until(lambda: _true(len(collected.events) >= 2))
    await asyncio.sleep(0.05)
    assert len(collected.events) == 2


async def test_cursor_survives_a_restart(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus) -> None:
    conv = "restart-1"
    for i in range(5):
        await broker.put(user_event(conv, f"m{i}", T0 + i))
    first = ConsumerTask(source(broker.url, sessionmaker, bus))
    first.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 5))
    await first.stop()

    for i in range(5, 12):
        await broker.put(user_event(conv, f"m{i}", T0 + i))
    second_source = source(broker.url, sessionmaker, bus, batch_size=3)
    second = ConsumerTask(second_source)
    second.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 12))
    await second.stop()

    assert second_source.consumed == 7  # rows 6..12 only: nothing read twice
    assert [line.text for line in await transcript(sessionmaker, conv)] == [f"m{i}" for i in range(12)]


async def _eq(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected


async def test_malformed_rows_are_skipped(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus) -> None:
    conv = "malformed-1"
    await broker.put_raw(conv, "{not json")
    await broker.put_raw(None, json.dumps({"event": "user", "text": "who am I?", "timestamp": T0}))
    await broker.put_raw(conv, None)
    await broker.put_raw(conv, json.dumps(["a", "list"]))
    await broker.put_raw(conv, json.dumps({**user_event(conv, "NUL\x00 inside", T0 + 1)}))
    await broker.put_raw(conv, json.dumps({**user_event(conv, "bad intent", T0 + 2), "parse_data": {"intent": "not a dict"}}))
    await broker.put(user_event(conv, "fine", T0 + 3))
    task = ConsumerTask(source(broker.url, sessionmaker, bus))
    task.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 7))
    assert task.running  # still following
    await task.stop()
    lines = await transcript(sessionmaker, conv)
    assert [line.text for line in lines] == ["NUL inside", "bad intent", "fine"]
    assert lines[1].intent is None


async def test_waits_for_rasa_to_create_the_table(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus) -> None:
    task = ConsumerTask(source(broker.url, sessionmaker, bus))
    task.start()
    await asyncio.sleep(0.2)
    assert not broker.path.exists()  # the follower does not create Rasa's file
    await asyncio.to_thread(broker.create)  # Rasa starts: creates the table, then publishes
    await asyncio.sleep(0.1)
    await broker.put(user_event("late-1", "ilk mesaj", T0))
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 1))
    await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "late-1")] == ["ilk mesaj"]


async def test_events_table_started_again_is_read_from_the_start(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus) -> None:
    for i in range(3):
        await broker.put(user_event("reset-1", f"old {i}", T0 + i))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    broker.close()
    broker.path.unlink()
    await broker.put(user_event("reset-1", "new", T0 + 10))  # a fresh events.db: ids start at 1 again
    await drain(src)
    await drain(src)
    assert [line.text for line in await transcript(sessionmaker, "reset-1")] == ["old 0", "old 1", "old 2", "new"]
    assert await cursor(sessionmaker, broker.url) == 1


async def test_ticket_created_late_gets_what_the_customer_wrote_meanwhile(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, seed: Seed) -> None:
    conv = "late-ticket-1"
    await broker.put(user_event(conv, "Merhaba, param yansımadı", T0))  # in the summary
    meanwhile = user_event(conv, "kimse yok mu?", T0 + 30)  # written while the ticket was on its way
    await broker.put(meanwhile)
    await broker.put(bot_event(conv, "bot line", T0 + 31))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    ticket = await open_ticket(sessionmaker, conv)

    texts = [(m.sender, m.text) for m in await ticket_messages(sessionmaker, ticket)]
    assert texts.count(("customer", "Merhaba, param yansımadı")) == 1
    assert texts[-1] == ("customer", "kimse yok mu?")
    assert ("bot", "bot line") not in texts
    await broker.put(meanwhile)  # published again after the ticket exists
    await drain(src)
    assert len(await ticket_messages(sessionmaker, ticket)) == len(texts)


async def test_database_down_is_retried(broker: SqlBroker, tmp_path: Path, bus: InMemoryEventBus) -> None:
    """The handoff database is not there at first: the follower retries with backoff."""
    db_path = tmp_path / "missing-dir" / "handoff.db"  # SQLite cannot open it until the directory exists
    engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
    try:
        await broker.put(user_event("down-1", "hello?", T0))
        src = source(broker.url, make_sessionmaker(engine), bus)
        task = ConsumerTask(src)
        task.start()
        await until(lambda: _true(src.backoff.failures >= 2))
        assert task.running
        db_path.parent.mkdir()
        await upgrade(engine)
        await until(lambda: _eq(cursor(make_sessionmaker(engine), broker.url), 1))
        await task.stop()
        assert src.backoff.failures == 0
        assert [line.text for line in await transcript(make_sessionmaker(engine), "down-1")] == ["hello?"]
    finally:
        await engine.dispose()


# --- PostgreSQL: Rasa's events in PostgreSQL, two replicas -------------------

@pytest.fixture
async def pg_events_url() -> AsyncIterator[str]:
    """A database of its own for Rasa's events table, as in a deployment."""
    name = f"rasa_events_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_two_replicas_on_postgresql_process_each_event_once(pg_url: str, pg_events_url: str, bus: InMemoryEventBus) -> None:
    engine = make_engine(pg_url, pool_size=10)
    events_engine = create_async_engine(pg_events_url.replace("postgresql://", "postgresql+asyncpg://"))
    table = rasa_events_table()
    try:
        await _empty(engine)
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await sync_departments(session=session, catalogue_path=REPO_ROOT / "data" / "catalogue.yml")
        ticket = await open_ticket(sessionmaker, "pg-conv")
        async with events_engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        total = 400
        replicas = [source(pg_events_url, sessionmaker, bus, batch_size=25, gap_grace=0.2) for _ in range(2)]
        tasks = [ConsumerTask(r) for r in replicas]
        for t in tasks:
            t.start()
        for i in range(total):  # one committed insert per event, while both follow
            event = user_event("pg-conv", f"msg {i}", T0 + 1 + i / 1000)
            async with events_engine.begin() as conn:
                await conn.execute(insert(table).values(sender_id=event["sender_id"], data=json.dumps(event)))
        await until(lambda: _eq(cursor(sessionmaker, pg_events_url), total), timeout=30)
        for t in tasks:
            await t.stop()
        assert sum(r.consumed for r in replicas) == total  # the cursor lock: no batch read by both
        lines = await transcript(sessionmaker, "pg-conv")
        assert len(lines) == total and len({line.event_key for line in lines}) == total
        customer = [m for m in await ticket_messages(sessionmaker, ticket) if m.source_id.startswith("rasa:")]
        assert len(customer) == total
        await _empty(engine)
    finally:
        await events_engine.dispose()
        await engine.dispose()


# --- wiring: the app and the command ----------------------------------------

async def test_app_follows_and_the_console_gets_it_live(db_url: str, seed: Seed, broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    broker.create()
    settings = make_settings(db_url, events_source="sql", rasa_events_url=broker.url)
    app = create_app(settings, name=f"h_{uuid.uuid4().hex[:8]}", consume_events=True)
    app.config.MOTD = False
    port = free_port()
    srv = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False, asyncio_server_kwargs={"start_serving": False})
    assert srv is not None
    await srv.startup()
    await srv.before_start()
    await srv.start_serving()
    await srv.after_start()
    try:
        ticket = await open_ticket(sessionmaker, "live-1", claimed_by=seed.agents["fin"])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            fin = await login(client, "fin")
            async with live_events(client, fin) as events:
                await broker.put(user_event("live-1", "canlı mısınız?", T0 + 100))
                kind, data = await next_event(events)
                assert kind == "message.new" and data["ticket_number"] == ticket.number and data["sender"] == "customer"
            view = await client.get(f"/api/v1/tickets/{ticket.number}", headers=fin)
            assert view.json()["transcript"][-1]["text"] == "canlı mısınız?"
    finally:
        await srv.before_stop()
        srv.close()
        await srv.wait_closed()
        await srv.after_stop()
    assert not app.ctx.event_consumer.running  # stopped with the server


async def test_apps_built_in_tests_do_not_follow_unless_asked(server: Running) -> None:
    assert not hasattr(server.app.ctx, "event_consumer")


def test_follow_command(tmp_path: Path, broker: SqlBroker) -> None:
    db = tmp_path / "handoff.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}", "RASA_EVENTS_URL": broker.url, "HANDOFF_EVENTS_SOURCE": "sql"}
    subprocess.run([sys.executable, "-m", "handoff", "migrate"], env=env, cwd=REPO_ROOT, check=True, capture_output=True)
    broker.publish(user_event("cli-1", "komut satırı", T0))
    proc = subprocess.Popen([sys.executable, "-m", "handoff", "follow"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        async def stored() -> bool:
            engine = make_engine(f"sqlite+aiosqlite:///{db}")
            try:
                return [line.text for line in await transcript(make_sessionmaker(engine), "cli-1")] == ["komut satırı"]
            finally:
                await engine.dispose()

        asyncio.run(until(stored))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out.decode()


# --- the transcript API ------------------------------------------------------

async def test_supervisor_reads_a_transcript_page_by_page(client: httpx.AsyncClient, broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus) -> None:
    for i in range(5):
        await broker.put(user_event("api-1", f"soru {i}", T0 + 2 * i))
        await broker.put(bot_event("api-1", f"cevap {i}", T0 + 2 * i + 1))
    await broker.put(user_event("api-2", "other conversation", T0))
    await drain(source(broker.url, sessionmaker, bus))
    boss, fin = await login(client, "boss"), await login(client, "fin")

    assert (await client.get("/api/v1/conversations/api-1/events")).status_code == 401
    assert (await client.get("/api/v1/conversations/api-1/events", headers=fin)).status_code == 403
    assert (await client.get("/api/v1/conversations/api-1/events?limit=0", headers=boss)).status_code == 400
    first = (await client.get("/api/v1/conversations/api-1/events?limit=6", headers=boss)).json()
    rest = (await client.get(f"/api/v1/conversations/api-1/events?limit=6&after={first['next_after']}", headers=boss)).json()
    lines = first["events"] + rest["events"]
    assert [(e["kind"], e["text"]) for e in lines] == [(k, f"{w} {i}") for i in range(5) for k, w in (("customer", "soru"), ("bot", "cevap"))]
    assert lines[0]["intent"] == "deposit_problem" and rest["next_after"] is None
    async with sessionmaker() as session:
        audit = await list_audit(session=session, action="view_conversation")
    assert [(a.actor, (a.detail or {}).get("conversation_id")) for a in audit] == [("boss", "api-1"), ("boss", "api-1")]


def test_settings_read_once_from_the_environment() -> None:
    defaults = load_settings({}, require_secrets=False)
    assert (defaults.events_source, defaults.rasa_events_url, defaults.rabbitmq_url, defaults.rabbitmq_queue) == (
        "sql", "sqlite+aiosqlite:///events.db", "amqp://guest:guest@127.0.0.1:5672/", "rasa_core_events")
    custom = load_settings({"HANDOFF_EVENTS_SOURCE": "RabbitMQ", "RABBITMQ_URL": "amqp://u:secret@mq:5672/", "RABBITMQ_QUEUE": "q"}, require_secrets=False)
    assert (custom.events_source, custom.rabbitmq_queue) == ("rabbitmq", "q") and "secret" not in repr(custom)
    with pytest.raises(SettingsError):
        load_settings({"HANDOFF_EVENTS_SOURCE": "kafka"}, require_secrets=False)


async def test_line_arriving_while_its_ticket_is_created_reaches_the_ticket(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, seed: Seed) -> None:
    """The ticket's transaction is open (its backfill found nothing) when the
    follower stores the line: one of the two must see the other's row."""
    conv = "race-1"
    data = summary("finance", conversation_id=conv)
    for line in data["transcript"]:
        line["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0))
    await broker.put(user_event(conv, "tam o anda", T0 + 5))
    async with sessionmaker() as session:
        async with session.begin():
            result = await create_handoff(session=session, summary=data, idempotency_key="k1", validator=VALIDATOR, rules=QueueRules())
            step = asyncio.create_task(source(broker.url, sessionmaker, bus).step())
            await asyncio.sleep(0.3)
            if session.bind.dialect.name == "postgresql":
                assert not step.done()  # waits for the ticket's transaction (SQLite: one writer at a time anyway)
        assert await asyncio.wait_for(step, 10) == 1
    assert (await ticket_messages(sessionmaker, result.ticket))[-1].text == "tam o anda"


async def test_a_batch_commits_with_its_cursor_or_not_at_all(broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryEventBus, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(2):
        await broker.put(user_event("atomic-1", f"a{i}", T0 + i))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    for i in range(2, 5):
        await broker.put(user_event("atomic-1", f"a{i}", T0 + i))
    real = common.record_event
    calls = 0

    async def fails_on_the_second(**kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process dies mid-batch")
        return await real(**kw)

    monkeypatch.setattr(common, "record_event", fails_on_the_second)
    with pytest.raises(RuntimeError):
        await src.step()
    assert [line.text for line in await transcript(sessionmaker, "atomic-1")] == ["a0", "a1"]  # a2 rolled back too
    assert await cursor(sessionmaker, broker.url) == 2
    monkeypatch.setattr(common, "record_event", real)
    await drain(src)
    assert [line.text for line in await transcript(sessionmaker, "atomic-1")] == [f"a{i}" for i in range(5)]
    assert await cursor(sessionmaker, broker.url) == 5
