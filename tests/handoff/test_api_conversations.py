"""handoff/api/conversations.py: a supervisor reads a conversation's
transcript page by page; each read is audited."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import InMemoryLiveBus
from handoff.repo.audit import list_audit
from tests.handoff.helpers import login
from tests.handoff.rasa_events import T0, SqlBroker, bot_event, drain, source, user_event


async def test_supervisor_reads_a_transcript_page_by_page(
    client: httpx.AsyncClient, broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
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
    rest = (
        await client.get(f"/api/v1/conversations/api-1/events?limit=6&after={first['next_after']}", headers=boss)
    ).json()
    lines = first["events"] + rest["events"]
    assert [(e["kind"], e["text"]) for e in lines] == [
        (k, f"{w} {i}") for i in range(5) for k, w in (("customer", "soru"), ("bot", "cevap"))
    ]
    assert lines[0]["intent"] == "deposit_problem" and rest["next_after"] is None
    async with sessionmaker() as session:
        audit = await list_audit(session=session, action="view_conversation")
    assert [(a.actor, (a.detail or {}).get("conversation_id")) for a in audit] == [("boss", "api-1"), ("boss", "api-1")]
