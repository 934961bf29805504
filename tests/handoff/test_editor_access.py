"""Who may use the editors' pages and APIs, and who the agents' ones: editors
and supervisors the first, never agents; editors never the second. Every
editor's write is in the audit log under their username."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import AuditEntry, ConversationEvent, ReviewDecision
from handoff.repo.agents import insert_agent
from tests.handoff.conftest import Running
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login

EDITOR_READS = ("/api/v1/editor/inbox", "/api/v1/editor/targets", "/api/v1/editor/models")
AGENT_READS = ("/api/v1/queue", "/api/v1/stats", "/api/v1/departments", "/api/v1/tickets")


@pytest.fixture
async def editor(sessionmaker: async_sessionmaker[AsyncSession], password_hash: str, server: Running) -> str:
    async with sessionmaker() as session, session.begin():
        await insert_agent(
            session=session,
            username="ed",
            password_hash=password_hash,
            display_name="Elif Editor",
            role="editor",
            departments=[],
        )
    return "ed"


async def _line(sessionmaker: async_sessionmaker[AsyncSession], key: str, text: str) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(
            ConversationEvent(
                conversation_id="conv-review-1",
                event_key=key,
                kind="customer",
                text=text,
                intent="nlu_fallback",
                confidence=0.2,
                timestamp=datetime(2026, 12, 1, 10, tzinfo=timezone.utc),
            )
        )


async def test_an_editor_sees_the_editor_pages_and_none_of_the_agents(client: httpx.AsyncClient, editor: str) -> None:
    headers = await login(client, editor)
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["agent"]["role"] == "editor"
    for path in EDITOR_READS:
        assert (await client.get(path, headers=headers)).status_code == 200, path
    for path in AGENT_READS:
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "forbidden"
    created = await client.post("/api/v1/handoffs", json=summary(), headers=bot_headers("editor-access-1"))
    number = created.json()["ticket_number"]
    for method, path in (("GET", f"/api/v1/tickets/{number}"), ("POST", f"/api/v1/tickets/{number}/claim")):
        answer = await client.request(method, path, headers=headers)
        assert answer.status_code == 403, path


async def test_agents_cannot_open_the_editor_apis_and_supervisors_can(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _line(sessionmaker, "k" * 64, "bonusum nerede kaldı")
    agent = await login(client, "fin")
    for path in EDITOR_READS:
        assert (await client.get(path, headers=agent)).status_code == 403, path
        assert (await client.get(path)).status_code == 401, path
    for path, payload in (
        ("/api/v1/editor/decisions", {"keys": ["k" * 64], "decision": "noise"}),
        ("/api/v1/editor/train", None),
        ("/api/v1/editor/models/1/publish", None),
        ("/api/v1/editor/models/1/restore", None),
    ):
        assert (await client.post(path, json=payload, headers=agent)).status_code == 403, path
    async with sessionmaker() as session:
        assert (await session.execute(select(ReviewDecision))).scalars().first() is None
    boss = await login(client, "boss")
    inbox = await client.get("/api/v1/editor/inbox", headers=boss)
    assert inbox.status_code == 200
    texts = [item["text"] for group in inbox.json()["groups"] for item in group["items"]]
    assert texts == ["bonusum nerede kaldı"]


async def test_a_decision_leaves_the_inbox_and_is_audited_with_the_editors_name(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], editor: str
) -> None:
    key = "a" * 64
    await _line(sessionmaker, key, "asdfgh qwerty")
    headers = await login(client, editor)
    decided = await client.post("/api/v1/editor/decisions", json={"keys": [key], "decision": "noise"}, headers=headers)
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"decided": 1, "change": None}
    again = await client.post("/api/v1/editor/decisions", json={"keys": [key], "decision": "noise"}, headers=headers)
    assert again.json()["decided"] == 0
    inbox = (await client.get("/api/v1/editor/inbox", headers=headers)).json()
    assert all(item["key"] != key for group in inbox["groups"] for item in group["items"])
    async with sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "editor.decide"))).scalars()
        entry = entries.one()
        row = (await session.execute(select(ReviewDecision))).scalar_one()
    assert (entry.actor, entry.detail["decision"], entry.detail["lines"]) == ("ed", "noise", 1)
    assert (row.editor, row.decision, row.text) == ("ed", "noise", "asdfgh qwerty")


async def test_without_a_project_changes_and_trainings_say_so(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], editor: str
) -> None:
    key = "b" * 64
    await _line(sessionmaker, key, "kupon kodu nereye yazılır")
    headers = await login(client, editor)
    change = await client.post(
        "/api/v1/editor/decisions",
        json={"keys": [key], "decision": "faq", "target": "promotion_terms"},
        headers=headers,
    )
    assert change.status_code == 409 and "HANDOFF_EDITOR_PROJECT" in change.json()["error"]["message"]
    assert change.json()["error"]["code"] == "not_set_up"
    train = await client.post("/api/v1/editor/train", headers=headers)
    assert train.status_code == 409 and "HANDOFF_EDITOR_BOT_PYTHON" in train.json()["error"]["message"]
    unknown = await client.post(
        "/api/v1/editor/decisions", json={"keys": ["c" * 64], "decision": "noise"}, headers=headers
    )
    assert unknown.status_code == 400
