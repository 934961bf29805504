"""Agent API over a real socket: log-in, queue, claim, access rules, errors."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import AuditEntry
from handoff.services import tickets as tickets_service
from support_rules.conversations import conversation_ref, new_conversation_id
from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers, login, status_headers
from tests.handoff.test_api_bot import assert_error


async def new_ticket(client: httpx.AsyncClient, department: str = "finance", key: str | None = None, **kw) -> str:
    body = summary(department, **kw)
    res = await client.post(
        "/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(key or body["conversation_id"])
    )
    assert res.status_code == 201, res.text
    return res.json()["ticket_number"]


async def test_login_logout_and_cookie(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/api/v1/auth/login", json={"username": "fin", "password": "wrong"}),
        401,
        "invalid_credentials",
    )
    assert_error(
        await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"}),
        401,
        "invalid_credentials",
    )
    assert_error(await client.get("/api/v1/queue"), 401)
    res = await client.post("/api/v1/auth/login", json={"username": "fin", "password": PASSWORD})
    assert res.status_code == 200
    cookie = res.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert (await client.get("/api/v1/auth/me")).json()["agent"]["username"] == "fin"  # by cookie
    token = res.json()["token"]
    assert (await client.post("/api/v1/auth/logout")).status_code == 200
    client.cookies.clear()
    assert_error(await client.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_login_rate_limited(client: httpx.AsyncClient) -> None:
    for _ in range(3):  # the test server allows 3 failures per window, then makes one wait
        assert (await client.post("/api/v1/auth/login", json={"username": "acc", "password": "bad"})).status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"username": "acc", "password": PASSWORD})
    assert_error(blocked, 429, "login_rate_limited")
    assert int(blocked.headers["retry-after"]) > 500


async def test_login_body_validation(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/v1/auth/login", json={"username": "fin"}), 400, "missing_field")
    assert_error(
        await client.post("/api/v1/auth/login", json={"username": "fin", "password": PASSWORD, "role": "admin"}),
        400,
        "unknown_field",
    )
    assert_error(
        await client.post("/api/v1/auth/login", json={"username": ["fin"], "password": PASSWORD}), 400, "wrong_type"
    )


async def test_queue_is_scoped_and_ordered(client: httpx.AsyncClient) -> None:
    low = await new_ticket(client, priority="low", conversation_id="q-low")
    urgent = await new_ticket(client, priority="urgent", conversation_id="q-urgent")
    normal = await new_ticket(client, priority="normal", conversation_id="q-normal")
    acc = await new_ticket(client, "account", conversation_id="q-acc")
    conversations = {low: "q-low", urgent: "q-urgent", normal: "q-normal", acc: "q-acc"}
    fin = await login(client, "fin")
    queued = (await client.get("/api/v1/queue", headers=fin)).json()["queued"]
    assert [t["ticket_number"] for t in queued] == [urgent, normal, low]
    assert [t["queue_position"] for t in queued] == [1, 2, 3]
    boss = await login(client, "boss")
    everything = (await client.get("/api/v1/queue", headers=boss)).json()["queued"]
    positions = {t["ticket_number"]: t["queue_position"] for t in everything}
    assert positions == {urgent: 1, normal: 2, low: 3, acc: 1}
    for number, position in positions.items():  # the same figure the customer is told
        headers = status_headers(conversations[number])
        status = (await client.get(f"/api/v1/tickets/{number}/status", headers=headers)).json()
        assert status["queue_position"] == position


async def test_claim_next_then_empty(client: httpx.AsyncClient) -> None:
    number = await new_ticket(client)
    await new_ticket(client, "account")
    fin = await login(client, "fin")
    res = await client.post("/api/v1/queue/claim", headers=fin)
    assert res.status_code == 200 and res.json()["ticket_number"] == number and res.json()["status"] == "assigned"
    assert_error(await client.post("/api/v1/queue/claim", headers=fin), 404, "queue_empty")
    mine = (await client.get("/api/v1/queue", headers=fin)).json()["mine"]
    assert [t["ticket_number"] for t in mine] == [number]
    boss = await login(client, "boss")
    assert_error(await client.post(f"/api/v1/tickets/{number}/claim", headers=boss), 409, "not_queued")


FORBIDDEN_PATHS = [
    ("GET", "", None),
    ("GET", "/export", None),
    ("POST", "/claim", None),
    ("POST", "/reply", {"text": "hello"}),
    ("POST", "/resolve", {"note": "done"}),
    ("POST", "/hand-back", None),
    ("POST", "/transfer", {"department": "finance"}),
]


@pytest.mark.parametrize("method,suffix,payload", FORBIDDEN_PATHS)
async def test_other_departments_ticket_looks_missing(
    client: httpx.AsyncClient, method: str, suffix: str, payload
) -> None:
    number = await new_ticket(client, "account")
    if suffix not in ("", "/export", "/claim"):
        acc = await login(client, "acc")
        assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=acc)).status_code == 200
    fin = await login(client, "fin")
    real = await client.request(method, f"/api/v1/tickets/{number}{suffix}", json=payload, headers=fin)
    missing = await client.request(method, f"/api/v1/tickets/T-999999{suffix}", json=payload, headers=fin)
    assert_error(real, 404, "ticket_not_found")
    assert real.json() == missing.json()
    assert real.status_code == missing.status_code


async def test_supervisor_sees_all_agent_gets_403_on_stats(client: httpx.AsyncClient) -> None:
    number = await new_ticket(client, "technical")
    boss = await login(client, "boss")
    fin = await login(client, "fin")
    assert (await client.get(f"/api/v1/tickets/{number}", headers=boss)).status_code == 200
    assert_error(await client.get("/api/v1/stats", headers=fin), 403, "forbidden")
    stats = (await client.get("/api/v1/stats", headers=boss)).json()
    assert {d["department"] for d in stats["departments"]} >= {"finance", "account", "technical", "other"}
    assert next(d for d in stats["departments"] if d["department"] == "technical")["queue_length"] == 1


async def test_full_flow_reply_resolve_audit(
    client: httpx.AsyncClient, server, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number = await new_ticket(client, conversation_id="conv-flow")
    fin = await login(client, "fin")
    acc = await login(client, "acc")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    view = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()
    assert view["summary"]["ticket_number"] == number and len(view["transcript"]) == 2
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Merhaba, bakıyorum."}, headers=fin)
    assert res.status_code == 201 and res.json()["sender"] == "agent"
    assert [(m.conversation_id, m.text, m.agent_display_name) for m in server.channel.sent] == [
        ("conv-flow", "Merhaba, bakıyorum.", "Fatma Finans")
    ]
    retried = [
        await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Tamam", "client_id": "r1"}, headers=fin)
        for _ in range(2)
    ]
    assert [r.status_code for r in retried] == [201, 200] and retried[0].json()["id"] == retried[1].json()["id"]
    assert [m.text for m in server.channel.sent].count("Tamam") == 1
    long_reply = {"text": "ğ" * 4001}  # one character too many, 8,002 bytes
    assert_error(await client.post(f"/api/v1/tickets/{number}/reply", json=long_reply, headers=fin), 400, "too_long")
    huge = {"text": "a" * (64 * 1024)}  # a body over the service's limit
    assert_error(await client.post(f"/api/v1/tickets/{number}/reply", json=huge, headers=fin), 413)
    assert_error(
        await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "x", "html": True}, headers=fin),
        400,
        "unknown_field",
    )
    assert_error(
        await client.post(f"/api/v1/tickets/{number}/reply", json={"text": 42}, headers=fin), 400, "wrong_type"
    )
    boss = await login(client, "boss")
    assert_error(
        await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "hi"}, headers=boss), 409, "not_assignee"
    )
    res = await client.post(f"/api/v1/tickets/{number}/resolve", json={"note": "credited"}, headers=fin)
    assert res.status_code == 200 and res.json()["status"] == "resolved"
    assert res.json()["timestamps"]["resolved_at"] is not None
    assert (await client.get(f"/api/v1/tickets/{number}/export", headers=boss)).status_code == 200
    assert_error(await client.get(f"/api/v1/tickets/{number}", headers=acc), 404)
    async with sessionmaker() as s:
        rows = (
            await s.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.ticket_id.is_not(None))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("fin", "claim"),
        ("fin", "view"),
        ("fin", "reply"),
        ("fin", "reply"),
        ("fin", "resolve"),
        ("boss", "export"),
    ]


async def test_hand_back_and_transfer(client: httpx.AsyncClient, server) -> None:
    first = await new_ticket(client, conversation_id="conv-back")
    second = await new_ticket(client)
    fin = await login(client, "fin")
    acc = await login(client, "acc")
    await client.post(f"/api/v1/tickets/{first}/claim", headers=fin)
    res = await client.post(f"/api/v1/tickets/{first}/hand-back", headers=fin)
    assert res.status_code == 200 and res.json()["status"] == "handed_back"
    assert server.channel.handed_back == ["conv-back"]
    await client.post(f"/api/v1/tickets/{second}/claim", headers=fin)
    assert_error(
        await client.post(f"/api/v1/tickets/{second}/transfer", json={"department": "legal"}, headers=fin),
        400,
        "unknown_department",
    )
    res = await client.post(f"/api/v1/tickets/{second}/transfer", json={"department": "account"}, headers=fin)
    assert res.status_code == 200 and res.json()["department"] == "account" and res.json()["status"] == "queued"
    claimed = await client.post("/api/v1/queue/claim", headers=acc)
    assert claimed.json()["ticket_number"] == second


async def test_agents_see_the_conversations_reference_never_its_id(client: httpx.AsyncClient, server) -> None:
    """The id would let whoever reads it speak for the customer: the ticket,
    its export and the queue show a reference; replies still reach the id."""
    conversation_id = new_conversation_id()
    number = await new_ticket(client, conversation_id=conversation_id)
    fin = await login(client, "fin")
    queue = await client.get("/api/v1/queue", headers=fin)
    await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)
    read = await client.get(f"/api/v1/tickets/{number}", headers=fin)
    export = await client.get(f"/api/v1/tickets/{number}/export", headers=fin)
    for answer in (queue, read, export):
        assert answer.status_code == 200 and conversation_id not in answer.text
    for shown in (read.json(), export.json()):
        assert shown["summary"]["conversation_id"] == conversation_ref(conversation_id)
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Merhaba"}, headers=fin)
    assert res.status_code == 201, res.text
    assert [m.conversation_id for m in server.channel.sent] == [conversation_id]


async def test_search_history(client: httpx.AsyncClient) -> None:
    a = await new_ticket(client, username="ayse_k")
    await new_ticket(client, username="mehmet")
    await new_ticket(client, "account", username="ayse_k")
    fin = await login(client, "fin")
    found = (await client.get("/api/v1/tickets", params={"username": "ayse_k"}, headers=fin)).json()["tickets"]
    assert [t["ticket_number"] for t in found] == [a]
    by_number = (await client.get("/api/v1/tickets", params={"number": a}, headers=fin)).json()["tickets"]
    assert [t["ticket_number"] for t in by_number] == [a]
    assert_error(await client.get("/api/v1/tickets", params={"from": "yesterday"}, headers=fin), 400, "invalid_date")


async def test_no_stack_trace_leaves_the_service(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(**_: object) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(tickets_service, "queue_for", boom)
    fin = await login(client, "fin")
    res = await client.get("/api/v1/queue", headers=fin)
    assert res.status_code == 500
    assert res.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "secret" not in res.text and "Traceback" not in res.text


async def test_delivery_failure_is_reported_not_leaked(
    client: httpx.AsyncClient, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*_: object) -> None:
        raise ConnectionError("rasa down at 10.0.0.1")

    monkeypatch.setattr(server.channel, "send", fail)
    number = await new_ticket(client)
    fin = await login(client, "fin")
    await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "hi"}, headers=fin)
    assert_error(res, 502, "delivery_failed")
    assert "10.0.0.1" not in res.text
