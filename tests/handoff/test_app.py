"""handoff/app.py: an app built with ``consume_events`` follows Rasa's events
and stops following with the server; apps built in tests do not follow."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from tests.handoff.conftest import Running, Seed, StartApp
from tests.handoff.helpers import live_events, login, make_settings, next_event
from tests.handoff.rasa_events import T0, SqlBroker, open_ticket, user_event


async def test_app_follows_and_the_console_gets_it_live(
    db_url: str, seed: Seed, broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], start_app: StartApp
) -> None:
    broker.create()
    settings = make_settings(db_url, events_source="sql", rasa_events_url=broker.url)
    app = create_app(settings, name=f"h_{uuid.uuid4().hex[:8]}", consume_events=True)
    running = await start_app(app)
    ticket = await open_ticket(sessionmaker, "live-1", claimed_by=seed.agents["fin"])
    async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as client:
        fin = await login(client, "fin")
        async with live_events(client, fin) as events:
            await broker.put(user_event("live-1", "canlı mısınız?", T0 + 100))
            kind, data = await next_event(events)
            assert kind == "message.new" and data["ticket_number"] == ticket.number and data["sender"] == "customer"
        view = await client.get(f"/api/v1/tickets/{ticket.number}", headers=fin)
        assert view.json()["transcript"][-1]["text"] == "canlı mısınız?"
    assert app.ctx.event_consumer.running
    await running.stop()
    assert not app.ctx.event_consumer.running  # stopped with the server


async def test_apps_built_in_tests_do_not_follow_unless_asked(server: Running) -> None:
    assert not hasattr(server.app.ctx, "event_consumer")
