"""Live updates across replicas: PostgreSQL LISTEN/NOTIFY (handoff.live_bus).

Two buses on one database stand for two replicas of the service; two apps
on one database show a console on one replica seeing what the other did.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import asyncpg
import httpx
import pytest

from handoff.app import create_app
from handoff.live_bus import RESYNC, InMemoryLiveBus, PostgresLiveBus, asyncpg_dsn, make_live_bus
from handoff.services.channel import RecordingChannel
from handoff.settings import SettingsError, load_settings
from tests.handoff.conftest import StartApp
from tests.handoff.customer_lines import customer_writes
from tests.handoff.helpers import free_port, live_events, login, make_settings, next_event
from tests.handoff.test_api_agents import new_ticket


@pytest.fixture
async def replicas(pg_url: str) -> AsyncIterator[tuple[PostgresLiveBus, PostgresLiveBus]]:
    channel = f"live_test_{uuid.uuid4().hex[:8]}"
    a, b = (
        PostgresLiveBus(asyncpg_dsn(pg_url), channel, retry_seconds=0.1),
        PostgresLiveBus(asyncpg_dsn(pg_url), channel, retry_seconds=0.1),
    )
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def _drain(sub, count: int, timeout: float = 5.0) -> list[dict]:
    got = []
    for _ in range(count):
        event = await sub.get(timeout=timeout)
        assert event is not None, f"only {len(got)} of {count} events arrived: {got}"
        got.append(event)
    return got


async def test_an_event_published_on_one_replica_reaches_both_once_in_order(replicas) -> None:
    a, b = replicas
    async with a.subscribe() as on_a, b.subscribe() as on_b:
        for i in range(50):
            await (a if i % 2 else b).publish(
                {"type": "ticket.queued", "ticket_number": f"T-{i:06d}", "department": "finance"}
            )
        seen_a, seen_b = await _drain(on_a, 50), await _drain(on_b, 50)
        assert [e["ticket_number"] for e in seen_a] == [f"T-{i:06d}" for i in range(50)]
        assert seen_b == seen_a
        assert await on_a.get(timeout=0.3) is None and await on_b.get(timeout=0.3) is None  # nothing twice


async def test_a_lost_connection_is_reopened_and_consoles_are_told_to_reload(replicas, pg_url: str) -> None:
    a, b = replicas
    admin = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        async with b.subscribe() as on_b:
            pid = b._listener.get_server_pid()
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            assert (await _drain(on_b, 1))[0]["type"] == RESYNC
            assert b.listening and b._listener.get_server_pid() != pid
            await a.publish({"type": "ticket.closed", "ticket_number": "T-000001", "department": "finance"})
            assert (await _drain(on_b, 1))[0]["ticket_number"] == "T-000001"
    finally:
        await admin.close()


async def test_publishing_without_postgresql_still_reaches_this_replica(replicas, pg_url: str) -> None:
    a, _ = replicas
    a._dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    if a._publisher is not None:
        await a._publisher.close()
    async with a.subscribe() as on_a:
        await a.publish(
            {"type": "ticket.queued", "ticket_number": "T-000009", "department": "finance"}
        )  # must not raise
        assert (await _drain(on_a, 1))[0]["ticket_number"] == "T-000009"


async def test_an_update_too_large_for_notify_stays_local(replicas) -> None:
    a, b = replicas
    async with a.subscribe() as on_a, b.subscribe() as on_b:
        await a.publish({"type": "message.new", "ticket_number": "T-000002", "sender": "x" * 9000})
        assert (await _drain(on_a, 1))[0]["ticket_number"] == "T-000002"
        assert await on_b.get(timeout=0.3) is None


def test_the_bus_follows_the_database_unless_told(pg_url: str) -> None:
    assert isinstance(make_live_bus(make_settings("sqlite+aiosqlite:///x.db")), InMemoryLiveBus)
    assert isinstance(make_live_bus(make_settings(pg_url)), PostgresLiveBus)
    assert isinstance(make_live_bus(make_settings(pg_url, live_bus="memory")), InMemoryLiveBus)
    env = {"HANDOFF_DEV_INSECURE": "1"}
    assert load_settings({**env, "HANDOFF_LIVE_BUS": "Postgres"}).live_bus == "postgres"
    with pytest.raises(SettingsError, match="HANDOFF_LIVE_BUS"):
        load_settings({**env, "HANDOFF_LIVE_BUS": "kafka"})
    with pytest.raises(SettingsError, match="HANDOFF_LIVE_CHANNEL"):
        load_settings({**env, "HANDOFF_LIVE_CHANNEL": "live; DROP TABLE tickets"})


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # several replicas run on PostgreSQL only
async def test_a_console_on_one_replica_sees_what_happened_on_the_other(db_url: str, seed, start_app: StartApp) -> None:
    """Two apps on one PostgreSQL database: the agent's live stream is on
    replica B; the ticket arrives, is claimed and gets a customer message
    through replica A."""
    async with AsyncExitStack() as stack:
        apps, urls = [], []
        for name in ("a", "b"):
            app = create_app(
                make_settings(db_url), channel=RecordingChannel(), name=f"replica_{name}_{uuid.uuid4().hex[:6]}"
            )
            apps.append(app)
            urls.append((await start_app(app)).base_url)
        on_a = await stack.enter_async_context(httpx.AsyncClient(base_url=urls[0], timeout=30))
        on_b = await stack.enter_async_context(httpx.AsyncClient(base_url=urls[1], timeout=30))
        fin = await login(on_b, "fin")
        async with live_events(on_b, fin) as lines:
            number = await new_ticket(on_a, "finance")
            kind, data = await next_event(lines)
            assert (kind, data["ticket_number"], data["department"]) == ("ticket.queued", number, "finance")
            assert (
                await on_a.post(f"/api/v1/tickets/{number}/claim", headers=await login(on_a, "fin"))
            ).status_code == 200
            kind, data = await next_event(lines)
            assert (kind, data["ticket_number"]) == ("ticket.claimed", number)
            assert await customer_writes(apps[0], number, "hâlâ bekliyorum") is not None  # the follower of replica A
            kind, data = await next_event(lines)
            assert (kind, data["ticket_number"], data["sender"]) == ("message.new", number, "customer")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_follow_worker_reaches_consoles_of_a_serve_replica(
    db_url: str, seed, sessionmaker, tmp_path, start_app: StartApp
) -> None:
    """`python -m handoff follow` as its own process: the customer message it
    files reaches the agent's live stream on a `serve` replica."""
    import os
    import sys

    from handoff.settings import REPO_ROOT
    from tests.handoff.rasa_events import T0, SqlBroker, open_ticket, user_event

    ticket = await open_ticket(sessionmaker, "follow-conv", claimed_by=seed.agents["fin"])
    broker = SqlBroker(tmp_path / "events.db")
    broker.create()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "HANDOFF_EVENTS_SOURCE": "sql",
        "RASA_EVENTS_URL": broker.url,
        "HANDOFF_LIVE_BUS": "auto",
    }
    follower = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "handoff",
        "follow",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        app = create_app(make_settings(db_url), channel=RecordingChannel(), name=f"serve_{uuid.uuid4().hex[:6]}")
        base = (await start_app(app)).base_url
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            fin = await login(client, "fin")
            async with live_events(client, fin) as lines:
                await broker.put(user_event("follow-conv", "hâlâ bekliyorum, orada mısınız?", T0 + 5))
                kind, data = await next_event(lines, timeout=20)
                assert (kind, data["ticket_number"], data["sender"]) == ("message.new", ticket.number, "customer")
    finally:
        follower.terminate()
        _, err = await follower.communicate()
        broker.close()
    assert follower.returncode == 0, err.decode()[-2000:]
