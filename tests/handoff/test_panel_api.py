"""The customer panel's API (/panel/api) on SQLite and PostgreSQL: signing
in with the platform's token, a customer's own requests only, adding a
message that reaches the agent live, retention, and who opens what."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from handoff.app import create_app
from handoff.models import Ticket, utcnow
from handoff.services.retention import apply_retention
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.factories import distinct_topic, summary
from tests.handoff.helpers import bot_headers, live_events, login, make_settings, next_event
from tests.handoff.test_openapi import Checker

SECRET = "panel-test-customer-token-secret-0123456789"


@dataclass
class Panel:
    app: object
    base_url: str
    client: httpx.AsyncClient


@pytest.fixture
async def panel(db_url: str, seed: Seed, start_app: StartApp) -> AsyncIterator[Panel]:
    app = create_app(
        make_settings(db_url, customer_token_secret=SECRET, panel_session_max_age_seconds=3600),
        name=f"panel_{uuid.uuid4().hex[:8]}",
    )
    running = await start_app(app)
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
        yield Panel(app, running.base_url, client)


async def hand_off(
    client: httpx.AsyncClient, username: str, *, source: str = USERNAME_VERIFIED, **extra: object
) -> str:
    body = summary("finance", username=username, username_source=source, **extra)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def signed_in(base_url: str, username: str, **claims: object) -> httpx.AsyncClient:
    """A customer's browser: its own cookie jar, signed in with a token."""
    customer = httpx.AsyncClient(base_url=base_url, timeout=30)
    res = await customer.post("/panel/api/session", json={"token": mint_customer_token(username, SECRET, **claims)})
    assert res.status_code == 200, res.text
    return customer


async def answered(number: str, fin: dict[str, str], client: httpx.AsyncClient, *, resolve: bool) -> None:
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Hesabınıza yansıdı."}, headers=fin)
    assert res.status_code == 201, res.text
    if resolve:
        assert (
            await client.post(f"/api/v1/tickets/{number}/resolve", json={"note": "ok"}, headers=fin)
        ).status_code == 200


async def test_the_token_becomes_a_session_cookie_scoped_to_the_panel(panel: Panel) -> None:
    token = mint_customer_token("ayse_k", SECRET, language="en", ttl_seconds=600)
    res = await panel.client.post("/panel/api/session", json={"token": token})
    assert res.status_code == 200, res.text
    assert res.json()["customer"] == {"username": "ayse_k"} and res.json()["language"] == "en"
    cookie = res.headers["set-cookie"]
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert cookie.startswith("panel_session=") and {"httponly", "samesite", "path", "max-age"} <= parts
    assert "Path=/panel" in cookie and "SameSite=Strict" in cookie and "secure" not in parts  # plain http here
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 0 < max_age <= 600  # never beyond the token's own expiry
    assert token not in cookie


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"token": mint_customer_token("ayse_k", "another-secret-entirely-0123456789")}, 401, "invalid_token"),
        ({"token": mint_customer_token("ayse_k", SECRET, now=1_000_000)}, 401, "invalid_token"),
        ({"token": "not-a-token"}, 401, "invalid_token"),
        ({"token": ""}, 400, "too_short"),
        ({}, 400, "missing_field"),
        ({"token": 5}, 400, "wrong_type"),
        ({"token": "x", "admin": True}, 400, "unknown_field"),
    ],
    ids=["forged", "expired", "garbage", "empty", "missing", "number", "extra-field"],
)
async def test_a_token_that_proves_nothing_opens_nothing(panel: Panel, body: dict, status: int, code: str) -> None:
    res = await panel.client.post("/panel/api/session", json=body)
    assert res.status_code == status, res.text
    if code != "too_short":
        assert res.json()["error"]["code"] == code
    assert "set-cookie" not in res.headers
    assert (await panel.client.get("/panel/api/requests")).status_code == 401


async def test_the_customer_sees_their_own_requests_only(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    closed = await hand_off(client, "ayse_k")
    await answered(closed, fin, client, resolve=True)
    still_open = await hand_off(client, "ayse_k", channel="rest")
    typed = await hand_off(client, "ayse_k", source=USERNAME_TYPED)  # typed in an anonymous chat: links nothing
    other = await hand_off(client, "mehmet_y")
    customer = await signed_in(panel.base_url, "ayse_k")
    listed = (await customer.get("/panel/api/requests")).json()
    assert listed["customer"] == {"username": "ayse_k"}
    assert [r["number"] for r in listed["open"]] == [still_open]
    assert [r["number"] for r in listed["closed"]] == [closed] and listed["archived"] == []
    item = listed["closed"][0]
    assert item["topic"] == {"id": "deposit", "name": {"tr": "Para yatırma", "en": "Deposit"}}
    assert item["department"]["name"] == {"tr": "Finans", "en": "Finance"}
    assert item["status"] == "resolved" and item["open"] is False and item["updated_at"] >= item["created_at"]
    assert listed["open"][0]["channel"] == "rest"

    # another customer's number, one that does not exist, one malformed, and a typed one: the same answer
    missing = await customer.get("/panel/api/requests/T-999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "request_not_found"
    for number in (other, typed, "T-0", "garbage", "T-99999999999"):
        res = await customer.get(f"/panel/api/requests/{number}")
        assert (res.status_code, res.content) == (missing.status_code, missing.content), number
        res = await customer.post(f"/panel/api/requests/{number}/messages", json={"text": "merhaba"})
        assert (res.status_code, res.content) == (missing.status_code, missing.content), number
    await customer.aclose()


async def test_a_request_shows_its_steps_and_transcript(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    queued = await hand_off(client, "ayse_k", description="Kartım 4111 1111 1111 1111 ile yatırdım")
    answered_number = await hand_off(client, "ayse_k", topic=distinct_topic("account"))  # another problem
    await answered(answered_number, fin, client, resolve=False)
    customer = await signed_in(panel.base_url, "ayse_k")

    waiting = (await customer.get(f"/panel/api/requests/{queued}")).json()
    steps = {s["step"]: s for s in waiting["timeline"]}
    assert list(steps) == ["received", "in_queue"]
    assert steps["in_queue"]["current"] is True and steps["in_queue"]["queue_position"] == 1
    assert steps["in_queue"]["expected_wait_seconds"] > 0
    assert waiting["can_write"] is True and waiting["documents"] == []

    detail = (await customer.get(f"/panel/api/requests/{answered_number}")).json()
    assert [s["step"] for s in detail["timeline"]] == ["received", "in_queue", "with_agent", "waiting_for_customer"]
    assert detail["timeline"][-1]["current"] is True and detail["timeline"][-1]["agent"] == "Fatma Finans"
    lines = [(line["sender"], line["text"], line["agent"]) for line in detail["transcript"]]
    assert lines == [
        ("customer", "Merhaba, param yansımadı", None),
        ("bot", "Sizi bir temsilciye aktarıyorum.", None),
        ("agent", "Hesabınıza yansıdı.", "Fatma Finans"),
    ]
    assert "fin" not in json.dumps(detail["transcript"]).replace("Fatma Finans", "")  # the agent's login is not shown
    assert "resolution_note" not in detail and "summary" not in detail
    await customer.aclose()


async def test_a_message_reaches_the_agent_live_and_is_kept_once(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    number = await hand_off(client, "ayse_k")
    await answered(number, fin, client, resolve=False)
    customer = await signed_in(panel.base_url, "ayse_k")
    async with live_events(client, fin) as events:
        res = await customer.post(
            f"/panel/api/requests/{number}/messages",
            json={"text": "IBAN'ım TR33 0006 1005 1978 6457 8413 26, kontrol eder misiniz?", "client_id": "m-1"},
        )
        assert res.status_code == 201, res.text
        line = res.json()["message"]
        assert line["sender"] == "customer" and line["channel"] == "panel"
        assert "6457 8413" not in line["text"]  # masked before it was stored
        kind, data = await next_event(events)
        assert (kind, data["type"], data["ticket_number"], data["sender"]) == (
            "message.new",
            "message.new",
            number,
            "customer",
        )
    again = await customer.post(
        f"/panel/api/requests/{number}/messages", json={"text": "IBAN'ım ... (retried)", "client_id": "m-1"}
    )
    assert again.status_code == 200 and again.json()["message"]["id"] == line["id"]
    transcript = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()["transcript"]
    assert [m["sender"] for m in transcript][-1] == "customer"
    assert sum(1 for m in transcript if "kontrol eder misiniz" in m["text"]) == 1
    await customer.aclose()


async def test_a_queued_request_keeps_the_message_for_the_agent_who_claims_it(panel: Panel) -> None:
    client = panel.client
    number = await hand_off(client, "ayse_k")
    customer = await signed_in(panel.base_url, "ayse_k")
    assert (await customer.post(f"/panel/api/requests/{number}/messages", json={"text": "Ek bilgi"})).status_code == 201
    fin = await login(client, "fin")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    transcript = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()["transcript"]
    assert transcript[-1]["sender"] == "customer" and transcript[-1]["text"] == "Ek bilgi"
    await customer.aclose()


async def test_bad_messages_get_clear_answers(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    number = await hand_off(client, "ayse_k")
    closed = await hand_off(client, "ayse_k", topic=distinct_topic("account"))  # another problem
    await answered(closed, fin, client, resolve=True)
    customer = await signed_in(panel.base_url, "ayse_k")
    path = f"/panel/api/requests/{number}/messages"
    for body, status, code in [
        ({"text": "   "}, 400, "empty_field"),
        ({"text": "x" * 4001}, 400, "too_long"),
        ({"text": "x", "client_id": "bad id!"}, 400, "empty_field"),
        ({"text": "x", "sender": "agent"}, 400, "unknown_field"),
        ({}, 400, "missing_field"),
    ]:
        res = await customer.post(path, json=body)
        assert (res.status_code, res.json()["error"]["code"]) == (status, code), body
    assert (await customer.post(path, content=b"{")).status_code == 400
    assert (await customer.post(path, json={"text": "ü" * 100_000})).status_code == 413
    res = await customer.post(f"/panel/api/requests/{closed}/messages", json={"text": "bir şey daha"})
    assert res.status_code == 409 and res.json()["error"]["code"] == "request_closed"
    # a page of another origin cannot write with the customer's cookie
    res = await customer.post(path, json={"text": "csrf"}, headers={"Origin": "http://evil.example"})
    assert res.status_code == 403 and res.json()["error"]["code"] == "cross_origin"
    res = await customer.post(path, json={"text": "same origin"}, headers={"Origin": panel.base_url})
    assert res.status_code == 201
    await customer.aclose()


async def test_sessions_do_not_cross_between_agents_and_customers(panel: Panel) -> None:
    client = panel.client
    number = await hand_off(client, "ayse_k")
    fin = await login(client, "fin")
    agent_token = fin["Authorization"].split(" ", 1)[1]
    tried = [({}, {}), (fin, {}), ({}, {"handoff_session": agent_token}), ({}, {"panel_session": agent_token})]
    for headers, cookies in tried:
        async with httpx.AsyncClient(base_url=panel.base_url, cookies=cookies, timeout=30) as other:
            for res in (
                await other.get("/panel/api/requests", headers=headers),
                await other.get(f"/panel/api/requests/{number}", headers=headers),
                await other.post(f"/panel/api/requests/{number}/messages", json={"text": "x"}, headers=headers),
            ):
                assert res.status_code == 401 and res.json()["error"]["code"] == "unauthorized", (headers, cookies)
    customer = await signed_in(panel.base_url, "ayse_k")
    panel_cookie = customer.cookies.get("panel_session", path="/panel")
    async with httpx.AsyncClient(base_url=panel.base_url, cookies={"handoff_session": panel_cookie}) as as_agent:
        assert (await as_agent.get("/api/v1/queue")).status_code == 401
    bearer = {"Authorization": f"Bearer {panel_cookie}"}
    for res in (
        await customer.get("/api/v1/queue"),
        await customer.get("/api/v1/queue", headers=bearer),
        await customer.get(f"/api/v1/tickets/{number}", headers=bearer),
    ):
        assert res.status_code == 401
    # signing out removes the cookie
    out = await customer.delete("/panel/api/session")
    assert out.status_code == 200 and "panel_session=" in out.headers["set-cookie"]
    assert (await customer.get("/panel/api/requests")).status_code == 401
    await customer.aclose()


async def test_archived_requests_are_read_only_and_purged_ones_are_gone(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    old = await hand_off(client, "ayse_k")
    await answered(old, fin, client, resolve=True)
    purged = await hand_off(client, "ayse_k")
    await answered(purged, fin, client, resolve=True)
    sessionmaker = panel.app.ctx.sessionmaker  # type: ignore[attr-defined]
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        for number, days in ((old, 40), (purged, 400)):
            await session.execute(
                update(Ticket).where(Ticket.id == int(number[2:])).values(closed_at=now - timedelta(days=days))
            )
        result = await apply_retention(session=session, archive_after_days=30, purge_after_days=365, now=now)
    assert (result.archived, result.purged) == (2, 1)  # archived, and the older one purged in the same run
    customer = await signed_in(panel.base_url, "ayse_k")
    listed = (await customer.get("/panel/api/requests")).json()
    assert [r["number"] for r in listed["archived"]] == [old] and listed["open"] == listed["closed"] == []
    detail = (await customer.get(f"/panel/api/requests/{old}")).json()
    assert detail["archived"] is True and detail["can_write"] is False
    assert detail["timeline"][-1]["step"] == "archived"
    res = await customer.post(f"/panel/api/requests/{old}/messages", json={"text": "hâlâ orada mısınız?"})
    assert res.status_code == 409
    gone = await customer.get(f"/panel/api/requests/{purged}")
    missing = await customer.get("/panel/api/requests/T-999999")
    assert (gone.status_code, gone.content) == (missing.status_code, missing.content)
    await customer.aclose()


async def test_panel_answers_match_the_document(panel: Panel) -> None:
    client = panel.client
    fin = await login(client, "fin")
    number = await hand_off(client, "ayse_k")
    await answered(number, fin, client, resolve=False)
    customer = await signed_in(panel.base_url, "ayse_k")
    check = Checker(customer, (await client.get("/api/v1/openapi.json")).json())
    await check("GET", "/panel/api/requests")
    await check("GET", "/panel/api/requests/{number}", number)
    await check("GET", "/panel/api/requests/{number}", "T-999999")
    await check("POST", "/panel/api/requests/{number}/messages", number, json={"text": "x", "client_id": "a"})
    await check("POST", "/panel/api/requests/{number}/messages", number, json={"text": "x", "client_id": "a"})
    await check("POST", "/panel/api/requests/{number}/messages", number, json={"text": ""})
    await check("POST", "/panel/api/session", json={"token": mint_customer_token("ayse_k", SECRET)})
    await check("POST", "/panel/api/session", json={"token": "nope"})
    await check("DELETE", "/panel/api/session")
    await check("GET", "/panel/api/requests")  # 401 now
    assert check.statuses >= {200, 201, 400, 401, 404}
    await customer.aclose()
