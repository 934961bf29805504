"""handoff/services/retention.py, end to end: a conversation goes through
the real stores (Rasa's SQL broker followed into transcripts, the bot's
handoff, an agent's claim, reads, reply and resolve note, a supervisor's
transcript read and searches), is aged, and the `retention` command the
product runs leaves nothing of it in any table. A queued ticket of a customer
long gone leaves the queue. `serve` runs the same retention in the
background."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.cli import main
from handoff.live_bus import InMemoryLiveBus
from handoff.models import AuditEntry, Base, Ticket, UTCDateTime, utcnow
from handoff.services.retention import _LOCK, RetentionJob
from support_rules.tickets import ABANDONED, QUEUED
from tests.handoff.conftest import Running, StartApp
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login, make_settings, until
from tests.handoff.rasa_events import T0, SqlBroker, bot_event, drain, source, user_event

# forms a masker may miss: the purge must remove them whatever masking did
CARD = "4111111111111111"
IBAN = "TR33-0006-1005-1978-6457-8413-26"
AGE = timedelta(days=400)  # older than the purge age (365 days)


async def _shift_every_timestamp(engine: AsyncEngine, by: timedelta) -> None:
    """Age the database: every timestamp of every table moves back ``by``."""
    async with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            stamps = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
            if not stamps:
                continue
            keys = list(table.primary_key.columns)
            for row in (await conn.execute(select(*keys, *stamps))).all():
                values = {c.name: row._mapping[c] - by for c in stamps if row._mapping[c] is not None}
                if values:
                    where = [k == row._mapping[k] for k in keys]
                    await conn.execute(update(table).where(*where).values(**values))


async def _every_row(engine: AsyncEngine) -> str:
    """Every row of every table of the database (ours, Alembic's, any other) as text."""
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        dump = []
        for name in names:
            rows = (await conn.execute(text(f'SELECT * FROM "{name}"'))).all()
            dump.append(f"{name}: {[tuple(r) for r in rows]!r}")
    assert "conversation_events" in " ".join(names) and "audit_log" in " ".join(names)
    return "\n".join(dump)


def _retention_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HANDOFF_ARCHIVE_AFTER_DAYS", "30")
    monkeypatch.setenv("HANDOFF_PURGE_AFTER_DAYS", "365")
    # "never" for the queue notifier: retention still closes the tickets of customers long gone
    monkeypatch.setenv("HANDOFF_ABANDON_AFTER_SECONDS", "0")


async def _hand_off(client: httpx.AsyncClient, conversation_id: str, username: str, **overrides: Any) -> str:
    res = await client.post(
        "/api/v1/handoffs",
        json=summary("finance", conversation_id=conversation_id, username=username, **overrides),
        headers=bot_headers(f"key-{conversation_id}"),
    )
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def test_after_the_purge_age_nothing_of_a_conversation_is_left(
    server: Running,
    client: httpx.AsyncClient,
    broker: SqlBroker,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    conv, username = f"gone-{uuid.uuid4().hex[:10]}", "ayse_gone42"
    waiting_conv, waiting_user = f"wait-{uuid.uuid4().hex[:10]}", "veli_waits7"
    # the customer talks to the bot: Rasa's SQL broker, followed into transcripts
    await broker.put(
        user_event(conv, f"IBAN'ım {IBAN}", T0),
        bot_event(conv, "Teşekkürler.", T0 + 1),
        user_event(conv, f"kartno{CARD} çekildi", T0 + 2),
    )
    number = await _hand_off(client, conv, username, description=f"Kartım kartno{CARD}, IBAN {IBAN}")
    await broker.put(user_event(conv, f"hala bekliyorum {IBAN}", T0 + 7200))  # after the summary: to the ticket
    await drain(source(broker.url, sessionmaker, bus))
    waiting = await _hand_off(client, waiting_conv, waiting_user)

    fin, boss = await login(client, "fin"), await login(client, "boss")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    assert (await client.get(f"/api/v1/tickets/{number}", headers=fin)).status_code == 200
    assert (await client.get(f"/api/v1/tickets/{number}/export", headers=fin)).status_code == 200
    reply = {"text": f"{username}, kartınız kartno{CARD} için iade başladı"}
    assert (await client.post(f"/api/v1/tickets/{number}/reply", json=reply, headers=fin)).status_code == 201
    note = {"note": f"iade edildi, kart kartno{CARD}, {IBAN}"}
    assert (await client.post(f"/api/v1/tickets/{number}/resolve", json=note, headers=fin)).status_code == 200
    events = (await client.get(f"/api/v1/conversations/{conv}/events", headers=boss)).json()["events"]
    assert len(events) == 4  # stored (masked or not)
    assert (await client.get(f"/api/v1/tickets?username={username}", headers=boss)).json()["tickets"]
    assert (await client.get("/api/v1/queue", headers=boss)).status_code == 200
    before = await _every_row(engine)
    assert conv in before and username in before

    await _shift_every_timestamp(engine, AGE)
    _retention_env(monkeypatch, server_db_url(server))
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["retention"]) == 0
    out = capsys.readouterr().out
    assert "abandoned 1 ticket(s)" in out and "purged 1 ticket(s)" in out

    after = await _every_row(engine)
    for trace in (conv, username, CARD, IBAN, number):
        assert trace not in after, f"{trace!r} left after the purge"
    # the audit trail keeps who did what when, without the details
    async with sessionmaker() as session:
        kept = list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
        gone = await session.scalar(select(Ticket).where(Ticket.conversation_id == waiting_conv))
    assert {"claim", "view", "export", "resolve", "view_conversation", "search"} <= {a.action for a in kept}
    assert all(a.detail is None for a in kept if a.at < utcnow() - timedelta(days=365))
    # the customer long gone left the queue
    assert gone is not None and gone.status == ABANDONED and gone.number == waiting
    queue = (await client.get("/api/v1/queue", headers=boss)).json()
    assert waiting not in [t["ticket_number"] for t in queue[QUEUED]]
    # and the API has nothing left to show of the purged conversation
    assert (await client.get(f"/api/v1/conversations/{conv}/events", headers=boss)).json()["events"] == []
    assert (await client.get(f"/api/v1/tickets/{number}", headers=boss)).status_code == 404


def server_db_url(server: Running) -> str:
    return str(server.app.ctx.settings.database_url)


async def test_a_conversation_with_a_ticket_or_recent_lines_is_kept(
    broker: SqlBroker, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, seed
) -> None:
    from handoff.services.retention import apply_retention

    now = utcnow()
    old, recent = now.timestamp() - AGE.total_seconds(), now.timestamp() - 86400
    await broker.put(user_event("old-only", "eski", old), user_event("old-then-new", "eski", old))
    await broker.put(user_event("old-then-new", "yeni", recent))
    await drain(source(broker.url, sessionmaker, bus))
    async with sessionmaker() as session, session.begin():
        result = await apply_retention(session=session, archive_after_days=30, purge_after_days=365, now=now)
    assert result.transcript_lines == 1
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT conversation_id, text FROM conversation_events"))).all()
    assert sorted(tuple(r) for r in left) == [("old-then-new", "eski"), ("old-then-new", "yeni")]


async def test_serve_runs_retention_in_the_background(
    db_url: str,
    seed,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    start_app: StartApp,
) -> None:
    plain = create_app(make_settings(db_url), name=f"plain_{uuid.uuid4().hex[:8]}")
    running = await start_app(plain)
    async with httpx.AsyncClient(base_url=running.base_url) as client:
        number = await _hand_off(client, "bg-1", "silent_one")
    await running.stop()
    await _shift_every_timestamp(engine, timedelta(days=40))

    settings = make_settings(db_url, abandon_after_seconds=0, retention_interval_seconds=3600.0)
    await start_app(create_app(settings, name=f"ret_{uuid.uuid4().hex[:8]}", retention=True))

    async def abandoned() -> bool:
        async with sessionmaker() as session:
            status = await session.scalar(select(Ticket.status).where(Ticket.conversation_id == "bg-1"))
        return status == ABANDONED

    await until(abandoned)
    assert number


async def test_one_replica_runs_retention_at_a_time(
    db_url: str, seed, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    job = RetentionJob(
        sessionmaker=sessionmaker,
        interval_seconds=3600,
        archive_after_days=30,
        purge_after_days=365,
        login_window_seconds=300,
        abandon_after_seconds=0,
    )
    if not db_url.startswith("postgresql"):
        assert await job.run_once() is not None  # SQLite: one writer anyway
        return
    async with sessionmaker() as holder, holder.begin():
        await holder.execute(select(func.pg_advisory_xact_lock(*_LOCK)))
        assert await job.run_once() is None
    assert await job.run_once() is not None
