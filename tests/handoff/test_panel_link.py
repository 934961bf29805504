"""The customer panel on SQLite and PostgreSQL: an anonymous chat linked to
the account at sign-in (only with the chat's secret, never another
account's ticket, audit-logged), and where a verification request stands
for its customer (requested, documents received, approved, rejected with
the editors' reason)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from handoff.app import create_app
from handoff.repo.audit import list_audit
from handoff.services.channel import RecordingChannel
from handoff.services.panel import LINK_ACTION
from support_rules.conversations import conversation_ref, conversation_secret, new_conversation_id
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from support_rules.verification import load_verification
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import jpeg_with_gps, png
from tests.handoff.documents_helpers import CONVERSATION_KEY, Customer
from tests.handoff.factories import distinct_topic, summary
from tests.handoff.helpers import bot_headers, login, make_settings

SECRET = "panel-link-customer-token-secret-0123456789"
VERIFICATION_TOPIC = {"id": "verification", "label": "Kimlik doğrulama"}
TEXTS = load_verification(Path(__file__).resolve().parents[2] / "data" / "verification.yml")


@dataclass
class Desk:
    app: Sanic
    base_url: str
    client: httpx.AsyncClient


@pytest.fixture
async def desk(db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path) -> AsyncIterator[Desk]:
    settings = make_settings(
        db_url,
        customer_token_secret=SECRET,
        conversation_secret_key=CONVERSATION_KEY,
        document_dir=tmp_path / "documents",
    )
    app = create_app(settings, channel=RecordingChannel(), name=f"panel_link_{uuid.uuid4().hex[:8]}")
    running = await start_app(app)
    async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
        yield Desk(app, running.base_url, client)


async def _hand_off(
    client: httpx.AsyncClient,
    conversation_id: str,
    *,
    department: str = "finance",
    username: str | None = "ayse_k",
    source: str = USERNAME_TYPED,
    **extra: Any,
) -> str:
    extra = {"topic": distinct_topic(department), **extra}
    body = summary(department, conversation_id=conversation_id, username=username, username_source=source, **extra)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def _verification(client: httpx.AsyncClient, conversation_id: str, **extra: Any) -> str:
    values: dict[str, Any] = {"topic": VERIFICATION_TOPIC, "transaction_type": None, "transaction_date": None}
    return await _hand_off(client, conversation_id, department="account", **{**values, **extra})


async def _sign_in(
    base_url: str, username: str, conversation: dict[str, str] | None = None
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    """A customer's browser tab, signed in, showing its chat's conversation (or none)."""
    customer = httpx.AsyncClient(base_url=base_url, timeout=30)
    body: dict[str, Any] = {"token": mint_customer_token(username, SECRET)}
    if conversation is not None:
        body["conversation"] = conversation
    res = await customer.post("/panel/api/session", json=body)
    assert res.status_code == 200, res.text
    return customer, res.json()


def _chat(conversation_id: str) -> dict[str, str]:
    """What the tab's web chat holds: the id and the secret the channel issued."""
    return {"id": conversation_id, "secret": conversation_secret(CONVERSATION_KEY, conversation_id)}


async def _listed(customer: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    res = await customer.get("/panel/api/requests")
    assert res.status_code == 200, res.text
    data = res.json()
    return {item["number"]: item for section in ("open", "closed", "archived") for item in data[section]}


async def _detail(customer: httpx.AsyncClient, number: str) -> dict[str, Any]:
    res = await customer.get(f"/panel/api/requests/{number}")
    assert res.status_code == 200, res.text
    data: dict[str, Any] = res.json()
    return data


async def _links(desk: Desk) -> list[tuple[int | None, dict[str, Any] | None]]:
    async with desk.app.ctx.sessionmaker() as session:
        return [(e.ticket_id, e.detail) for e in await list_audit(session=session, action=LINK_ACTION)]


async def test_the_tabs_anonymous_chat_becomes_the_customers_at_sign_in(desk: Desk) -> None:
    chat = new_conversation_id()
    first = await _hand_off(desk.client, chat)
    second = await _hand_off(desk.client, chat, username=None)  # the same chat, handed off again
    elsewhere = await _hand_off(desk.client, new_conversation_id())  # another visitor, the same typed name
    customer, signed = await _sign_in(desk.base_url, "ayse_k", _chat(chat))
    assert signed["linked"] == [first, second]
    listed = await _listed(customer)
    assert set(listed) == {first, second}
    assert (await _detail(customer, first))["number"] == first
    assert (await customer.get(f"/panel/api/requests/{elsewhere}")).json()["error"]["code"] == "request_not_found"
    # each link is audit-logged, naming the conversation by its reference only
    links = await _links(desk)
    assert [ticket_id for ticket_id, _ in links] == [int(first[2:]), int(second[2:])]
    assert links[0][1] == {"account_username": "ayse_k", "conversation": conversation_ref(chat)}
    assert chat not in json.dumps([detail for _, detail in links])
    # signing in again links nothing more and changes nothing
    again, signed_again = await _sign_in(desk.base_url, "ayse_k", _chat(chat))
    assert signed_again["linked"] == [] and set(await _listed(again)) == {first, second}
    assert len(await _links(desk)) == 2
    await customer.aclose()
    await again.aclose()


@pytest.mark.parametrize(
    "conversation",
    [
        {"id": "CHAT", "secret": "0" * 64},
        {"id": "CHAT", "secret": "SECRET-OF-ANOTHER"},
        {"id": "CHAT", "secret": "SECRET-WITH-ANOTHER-KEY"},
        {"id": "../../etc/passwd", "secret": "x"},
    ],
    ids=["wrong-secret", "another-chats-secret", "another-key", "not-an-id"],
)
async def test_a_secret_that_proves_nothing_links_nothing_and_still_signs_in(
    desk: Desk, conversation: dict[str, str]
) -> None:
    chat, other = new_conversation_id(), new_conversation_id()
    number = await _hand_off(desk.client, chat)
    secret = {
        "SECRET-OF-ANOTHER": conversation_secret(CONVERSATION_KEY, other),
        "SECRET-WITH-ANOTHER-KEY": conversation_secret("not-the-channels-key", chat),
    }.get(conversation["secret"], conversation["secret"])
    shown = {"id": chat if conversation["id"] == "CHAT" else conversation["id"], "secret": secret}
    customer, signed = await _sign_in(desk.base_url, "ayse_k", shown)
    assert signed["linked"] == [] and signed["customer"] == {"username": "ayse_k"}
    assert await _listed(customer) == {}  # signed in: the list answers, empty
    assert (await customer.get(f"/panel/api/requests/{number}")).status_code == 404
    assert await _links(desk) == []
    await customer.aclose()


async def test_a_typed_username_alone_links_nothing(desk: Desk) -> None:
    chat = new_conversation_id()
    number = await _hand_off(desk.client, chat, username="ayse_k", source=USERNAME_TYPED)
    customer, signed = await _sign_in(desk.base_url, "ayse_k")
    assert signed["linked"] == []
    assert number not in await _listed(customer)
    await customer.aclose()


async def test_another_accounts_ticket_stays_theirs(desk: Desk) -> None:
    chat = new_conversation_id()
    # mehmet signed in to this chat once (a verified token): that ticket is his
    his = await _hand_off(desk.client, chat, username="mehmet_y", source=USERNAME_VERIFIED)
    anonymous = await _hand_off(desk.client, chat, username=None)
    ayse, signed = await _sign_in(desk.base_url, "ayse_k", _chat(chat))
    assert signed["linked"] == [anonymous]
    assert set(await _listed(ayse)) == {anonymous}
    res = await ayse.get(f"/panel/api/requests/{his}")
    assert res.status_code == 404 and res.json()["error"]["code"] == "request_not_found"
    mehmet, _ = await _sign_in(desk.base_url, "mehmet_y", _chat(chat))
    assert set(await _listed(mehmet)) == {his}  # his own still, and nothing of ayse's
    assert [ticket_id for ticket_id, _ in await _links(desk)] == [int(anonymous[2:])]
    await ayse.aclose()
    await mehmet.aclose()


async def test_a_bad_token_links_nothing_even_with_the_right_secret(desk: Desk) -> None:
    chat = new_conversation_id()
    await _hand_off(desk.client, chat)
    forged = mint_customer_token("ayse_k", "not-the-platform-secret-0123456789")
    res = await desk.client.post("/panel/api/session", json={"token": forged, "conversation": _chat(chat)})
    assert res.status_code == 401 and res.json()["error"]["code"] == "invalid_token"
    assert await _links(desk) == []
    malformed = await desk.client.post(
        "/panel/api/session", json={"token": mint_customer_token("ayse_k", SECRET), "conversation": {"id": chat}}
    )
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "missing_field"


async def _reject(client: httpx.AsyncClient, number: str, reason_id: str) -> None:
    acc = await login(client, "acc")
    body = {"decision": "reject", "reason_id": reason_id}
    res = await client.post(f"/api/v1/tickets/{number}/verification", json=body, headers=acc)
    assert res.status_code == 200, res.text


async def _upload(client: httpx.AsyncClient, chat: str, data: bytes, name: str = "kimlik.jpg") -> None:
    headers = Customer(chat).headers
    res = await client.post("/chat/documents", files={"file": (name, data, "image/jpeg")}, headers=headers)
    assert res.status_code == 201, res.text


async def test_a_verification_request_shows_where_it_stands(desk: Desk) -> None:
    chat = new_conversation_id()
    support = await _hand_off(desk.client, chat, username=None)
    number = await _verification(desk.client, chat)  # the chat's latest request: its uploads go here
    customer, _ = await _sign_in(desk.base_url, "ayse_k", _chat(chat))
    listed = await _listed(customer)
    assert listed[support]["verification"] is None  # an ordinary request
    shown = listed[number]["verification"]
    assert shown["status"] == "requested" and shown["reason"] is None and shown["decided_at"] is None
    # what to send, named in both languages from the editors' file
    assert shown["documents_needed"] == [{"id": key, "name": name} for key, name in TEXTS.documents.items()]

    await _upload(desk.client, chat, jpeg_with_gps((320, 200)))
    assert (await _detail(customer, number))["verification"]["status"] == "documents_received"

    await _reject(desk.client, number, "expired")
    detail = (await _detail(customer, number))["verification"]
    assert detail["status"] == "rejected" and detail["reason_id"] == "expired"
    assert detail["reason"] == TEXTS.reason("expired")
    assert detail["reason"] == {"tr": "Kimlik belgesinin süresi dolmuş", "en": "The identity document has expired"}
    assert detail["decided_at"] is not None
    assert (await _listed(customer))[number]["verification"]["status"] == "rejected"

    # new documents after the rejection: under review again, no reason shown
    await _upload(desk.client, chat, png(), "kimlik-yeni.png")
    again = (await _detail(customer, number))["verification"]
    assert again["status"] == "documents_received" and again["reason"] is None
    await customer.aclose()


async def test_a_requests_own_decision_stands_after_a_later_one(desk: Desk) -> None:
    """The record keeps the latest decision; an older request still shows its own."""
    first_chat, second_chat = new_conversation_id(), new_conversation_id()
    first = await _verification(desk.client, first_chat, username="ayse_k", source=USERNAME_VERIFIED)
    await _upload(desk.client, first_chat, jpeg_with_gps())
    await _reject(desk.client, first, "unreadable")
    acc = await login(desk.client, "acc")
    assert (await desk.client.post(f"/api/v1/tickets/{first}/claim", headers=acc)).status_code == 200
    # closed before the next verification request: an open one would be joined (one request per problem)
    assert (await desk.client.post(f"/api/v1/tickets/{first}/resolve", json={}, headers=acc)).status_code == 200
    second = await _verification(desk.client, second_chat, username="ayse_k", source=USERNAME_VERIFIED)
    customer, _ = await _sign_in(desk.base_url, "ayse_k")
    listed = await _listed(customer)
    # the record went pending with the second request; the first keeps its rejection
    assert listed[first]["verification"]["status"] == "rejected"
    assert listed[first]["verification"]["reason"] == TEXTS.reason("unreadable")
    assert listed[second]["verification"]["status"] == "requested"
    acc = await login(desk.client, "acc")
    res = await desk.client.post(f"/api/v1/tickets/{second}/verification", json={"decision": "approve"}, headers=acc)
    assert res.status_code == 200, res.text
    listed = await _listed(customer)
    assert listed[second]["verification"]["status"] == "approved"
    assert listed[second]["verification"]["reason"] is None
    assert listed[first]["verification"]["status"] == "rejected"  # from the decision's audit entry
    await customer.aclose()


async def test_a_linked_chat_shows_no_decision_of_another_request(desk: Desk) -> None:
    """A visitor who typed someone else's username sees nothing of that
    person's verification: only decisions made on their own request."""
    victims = new_conversation_id()
    theirs = await _verification(desk.client, victims, username="mehmet_y", source=USERNAME_VERIFIED)
    await _reject(desk.client, theirs, "name_mismatch")
    chat = new_conversation_id()
    typed = await _verification(desk.client, chat, username="mehmet_y", source=USERNAME_TYPED)
    visitor, signed = await _sign_in(desk.base_url, "ayse_k", _chat(chat))
    assert signed["linked"] == [typed]
    shown = (await _detail(visitor, typed))["verification"]
    assert shown["status"] == "requested" and shown["reason"] is None and shown["reason_id"] is None
    assert (await visitor.get(f"/panel/api/requests/{theirs}")).status_code == 404
    await visitor.aclose()


def test_the_panel_reads_the_chat_where_the_chat_keeps_it() -> None:
    """panel.js looks for the conversation under chat.js's own sessionStorage keys."""
    pages = Path(__file__).resolve().parents[2] / "handoff"
    chat = (pages / "webchat" / "chat.js").read_text(encoding="utf-8")
    panel = (pages / "panel" / "panel.js").read_text(encoding="utf-8")
    for name in ("session", "secret"):
        [kept] = re.findall(rf'\b{name}: "(webchat\.[a-z_]+)"', chat)
        [read] = re.findall(rf'\b{name}: "(webchat\.[a-z_]+)"', panel)
        assert read == kept
