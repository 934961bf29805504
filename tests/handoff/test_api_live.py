"""Live updates over server-sent events."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from handoff.app import create_app
from handoff.services.channel import RecordingChannel
from tests.handoff.customer_lines import customer_writes
from tests.handoff.helpers import live_events, login, make_settings, next_event
from tests.handoff.test_api_agents import new_ticket


async def test_sse_new_ticket_message_and_taken(server, client: httpx.AsyncClient) -> None:
    fin = await login(client, "fin")
    boss = await login(client, "boss")
    assert (await client.get("/api/v1/live")).status_code == 401
    async with live_events(client, fin) as events:
        await new_ticket(client, "account")  # not theirs: must not arrive
        mine = await new_ticket(client, "finance")
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"], data["department"]) == ("ticket.queued", mine, "finance")

        await client.post(f"/api/v1/tickets/{mine}/claim", headers=fin)
        kind, data = await next_event(events)
        assert kind == "ticket.claimed" and data["ticket_number"] == mine

        await customer_writes(server.app, mine, "orada mısınız?")
        kind, data = await next_event(events)
        assert kind == "message.new" and data["ticket_number"] == mine and data["sender"] == "customer"

        other = await new_ticket(client, "finance")
        kind, data = await next_event(events)
        assert kind == "ticket.queued" and data["ticket_number"] == other
        await client.post(f"/api/v1/tickets/{other}/claim", headers=boss)
        kind, data = await next_event(events)
        assert kind == "ticket.claimed" and data["ticket_number"] == other
        assert data["assignee_id"] != (await client.get("/api/v1/auth/me", headers=fin)).json()["agent"]["id"]


async def test_a_resync_reaches_every_console(server, client: httpx.AsyncClient) -> None:
    """When live updates were lost (the bus reconnected), every console,
    whatever its departments, is told to reload."""
    acc = await login(client, "acc")
    async with live_events(client, acc) as events:
        await server.app.ctx.bus.publish({"type": "live.resync"})
        kind, _ = await next_event(events)
        assert kind == "live.resync"


async def test_health_check_says_whether_the_database_answers(client: httpx.AsyncClient) -> None:
    res = await client.get("/healthz")
    assert (res.status_code, res.json()) == (200, {"status": "ok"})


async def test_health_check_is_unavailable_without_the_database(tmp_path, start_app) -> None:
    """PostgreSQL gone: 503, so the load balancer stops sending to this replica."""
    import uuid

    from handoff.app import create_app
    from handoff.services.channel import RecordingChannel
    from tests.handoff.helpers import free_port, make_settings

    url = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
    app = create_app(
        make_settings(url, live_bus="memory"), channel=RecordingChannel(), name=f"down_{uuid.uuid4().hex[:6]}"
    )
    base = (await start_app(app)).base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        res = await c.get("/healthz")
    assert (res.status_code, res.json()) == (503, {"status": "unavailable"})


async def _until_closed(events, timeout: float = 10.0) -> list[str]:
    """Every event kind until the server closes the stream."""

    async def drain() -> list[str]:
        return [kind async for kind, _ in events]

    return await asyncio.wait_for(drain(), timeout)


async def test_a_stream_opened_before_log_out_receives_nothing_after(server, client: httpx.AsyncClient) -> None:
    fin = await login(client, "fin")
    other_session = await login(client, "fin")
    async with live_events(client, fin) as events:
        assert (await client.post("/api/v1/auth/logout", headers=other_session)).status_code == 200
        await new_ticket(client, "finance")  # would be theirs
        assert await _until_closed(events) == ["session.ended"]
    assert (await client.get("/api/v1/live", headers=fin)).status_code == 401


async def test_a_stream_ends_when_its_session_expires(db_url: str, seed, start_app) -> None:
    app = create_app(
        make_settings(db_url, session_max_age_seconds=2), channel=RecordingChannel(), name=f"exp_{uuid.uuid4().hex[:6]}"
    )
    base = (await start_app(app)).base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        fin = await login(c, "fin")
        async with live_events(c, fin) as events:
            started = time.monotonic()
            assert await _until_closed(events) == ["session.ended"]
            assert time.monotonic() - started < 5
        await new_ticket(c, "finance")
        assert (await c.get("/api/v1/live", headers=fin)).status_code == 401


async def test_a_log_out_ends_only_that_agents_streams(server, client: httpx.AsyncClient) -> None:
    fin, acc = await login(client, "fin"), await login(client, "acc")
    async with live_events(client, acc) as events:
        assert (await client.post("/api/v1/auth/logout", headers=fin)).status_code == 200
        mine = await new_ticket(client, "account")
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"]) == ("ticket.queued", mine)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # several replicas run on PostgreSQL only
async def test_a_log_out_on_one_replica_ends_the_stream_on_the_other(db_url: str, seed, start_app) -> None:
    urls = []
    for name in ("a", "b"):
        app = create_app(make_settings(db_url), channel=RecordingChannel(), name=f"out_{name}_{uuid.uuid4().hex[:6]}")
        urls.append((await start_app(app)).base_url)
    async with (
        httpx.AsyncClient(base_url=urls[0], timeout=30) as on_a,
        httpx.AsyncClient(base_url=urls[1], timeout=30) as on_b,
    ):
        fin = await login(on_b, "fin")
        async with live_events(on_b, fin) as events:
            assert (await on_a.post("/api/v1/auth/logout", headers=fin)).status_code == 200
            await new_ticket(on_a, "finance")
            assert await _until_closed(events) == ["session.ended"]
