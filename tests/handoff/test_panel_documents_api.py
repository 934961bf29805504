"""Documents in the customer panel (/panel/api/requests/<number>/documents)
on SQLite and PostgreSQL: a customer attaches a file to an open request and
it reaches the agent live and the chat; every refusal of the chat's upload
holds here too; the panel lists and serves every document of the request,
and nobody but the customer opens them through the panel."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sanic import Sanic
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.api.documents import download_headers
from handoff.app import create_app
from handoff.documents.refusals import REFUSAL_CODES
from handoff.documents.service import receive_document
from handoff.models import AuditEntry, Document, Message, Ticket, utcnow
from handoff.services.channel import ChannelError, RecordingChannel
from handoff.services.consumer import parse_event, record_event
from stack.live import free_port
from support_rules.conversations import new_conversation_id
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_VERIFIED
from tests.handoff.clamd import Clamd, running_clamd
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import EICAR, pdf, png
from tests.handoff.documents_helpers import CONVERSATION_KEY, Customer, page_labels
from tests.handoff.documents_helpers import upload as chat_upload
from tests.handoff.factories import distinct_topic, summary
from tests.handoff.helpers import bot_headers, live_events, login, make_settings, next_event
from tests.handoff.test_documents_api import ATTACKS, _megabytes, _post_raw, stored_files
from tests.handoff.test_openapi import Checker

SECRET = "panel-documents-customer-token-secret-0123456789"


@dataclass
class Desk:
    app: Sanic
    base_url: str
    client: httpx.AsyncClient  # the agents' and the bot's side
    channel: RecordingChannel
    document_dir: Path
    seed: Seed


async def start_desk(start_app: StartApp, db_url: str, seed: Seed, tmp_path: Path, **overrides: object) -> Desk:
    settings = make_settings(
        db_url,
        customer_token_secret=SECRET,
        conversation_secret_key=CONVERSATION_KEY,
        document_dir=tmp_path / "documents",
        **overrides,
    )
    channel = RecordingChannel()
    app = create_app(settings, channel=channel, name=f"panel_docs_{uuid.uuid4().hex[:8]}")
    running = await start_app(app)
    client = httpx.AsyncClient(base_url=running.base_url, timeout=30)
    return Desk(app, running.base_url, client, channel, tmp_path / "documents", seed)


@pytest.fixture
async def desk(db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path) -> AsyncIterator[Desk]:
    started = await start_desk(start_app, db_url, seed, tmp_path)
    yield started
    await started.client.aclose()


async def hand_off(desk: Desk, username: str, conversation_id: str | None = None) -> str:
    body = summary(
        "finance",
        username=username,
        username_source=USERNAME_VERIFIED,
        conversation_id=conversation_id or new_conversation_id(),
        topic=distinct_topic("finance"),
    )
    res = await desk.client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def signed_in(desk: Desk, username: str) -> httpx.AsyncClient:
    customer = httpx.AsyncClient(base_url=desk.base_url, timeout=30)
    res = await customer.post("/panel/api/session", json={"token": mint_customer_token(username, SECRET)})
    assert res.status_code == 200, res.text
    return customer


async def attach(
    customer: httpx.AsyncClient, number: str, data: bytes, name: str = "ekran.png", mime: str = "image/png"
) -> httpx.Response:
    return await customer.post(f"/panel/api/requests/{number}/documents", files={"file": (name, data, mime)})


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def claimed(desk: Desk, number: str) -> dict[str, str]:
    fin = await login(desk.client, "fin")
    assert (await desk.client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    return fin


async def close(desk: Desk, number: str, fin: dict[str, str]) -> None:
    res = await desk.client.post(f"/api/v1/tickets/{number}/resolve", json={"note": "ok"}, headers=fin)
    assert res.status_code == 200, res.text


# --- a file that is taken ---------------------------------------------------


async def test_a_screenshot_reaches_the_agent_live_the_chat_and_the_list(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conversation_id = new_conversation_id()
    number = await hand_off(desk, "ayse_k", conversation_id)
    fin = await claimed(desk, number)
    customer = await signed_in(desk, "ayse_k")
    async with live_events(desk.client, fin) as events:
        res = await attach(customer, number, png((300, 200)), "ekran görüntüsü.png")
        assert res.status_code == 201, res.text
        doc = res.json()["document"]
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"], data["sender"]) == ("message.new", number, "customer")
    assert doc["filename"] == "ekran görüntüsü.png" and doc["status"] == "stored" and doc["is_image"] is True
    assert doc["sender"] == "customer" and doc["content_type"] == "image/png"
    assert doc["url"] == f"/panel/api/requests/{number}/documents/{doc['id']}"

    # the agent's transcript and list: a panel line, the same document
    ticket = (await desk.client.get(f"/api/v1/tickets/{number}", headers=fin)).json()
    assert ticket["transcript"][-1]["text"] == "\N{PAPERCLIP} ekran görüntüsü.png"
    assert ticket["transcript"][-1]["channel"] == "panel" and ticket["transcript"][-1]["sender"] == "customer"
    listed = (await desk.client.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
    assert [d["id"] for d in listed] == [doc["id"]]
    # the web chat is told too, as the customer's own line
    assert desk.channel.echoed == [(conversation_id, "\N{PAPERCLIP} ekran görüntüsü.png")]

    # the panel lists it and serves it, inert, from /panel
    detail = (await customer.get(f"/panel/api/requests/{number}")).json()
    assert detail["documents"] == [doc]
    got = await customer.get(doc["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    async with sessionmaker() as session:
        row = await session.get(Document, doc["id"])
        assert row is not None
        expected = download_headers(row)
    for name, value in expected.items():
        assert got.headers[name] == value, name
    assert got.headers["content-disposition"].startswith("inline;")
    with Image.open(io.BytesIO(got.content)) as img:
        assert img.size == (300, 200)
    assert (await desk.client.get(f"/documents/{doc['id']}", headers=fin)).content == got.content
    async with sessionmaker() as session:
        actions = [
            (e.actor, e.action)
            for e in (await session.execute(select(AuditEntry).where(AuditEntry.action.like("document_%")))).scalars()
        ]
    assert actions == [("customer", "document_upload"), ("customer", "document_download"), ("fin", "document_download")]
    await customer.aclose()


async def test_a_pdf_downloads_as_an_attachment(desk: Desk) -> None:
    number = await hand_off(desk, "ayse_k")
    customer = await signed_in(desk, "ayse_k")
    res = await attach(customer, number, pdf(), "dekont.pdf", "application/pdf")
    assert res.status_code == 201, res.text
    doc = res.json()["document"]
    assert doc["is_image"] is False
    got = await customer.get(doc["url"])
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="dekont.pdf"')
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.content == pdf()
    await customer.aclose()


async def test_the_request_lists_documents_from_the_chat_the_panel_and_the_agent(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    chat = Customer(new_conversation_id())
    number = await hand_off(desk, "ayse_k", chat.conversation_id)
    await claimed(desk, number)
    from_chat = await chat_upload(desk.client, chat, pdf(), "dekont.pdf", "application/pdf")
    assert from_chat.status_code == 201, from_chat.text
    customer = await signed_in(desk, "ayse_k")
    assert (await attach(customer, number, png(), "ekran.png")).status_code == 201
    async with sessionmaker() as session, session.begin():  # an agent's file (the console has no upload yet)
        ticket = await session.get(Ticket, int(number[2:]))
        assert ticket is not None
        await receive_document(
            session=session,
            store=desk.app.ctx.document_store,
            scanner=desk.app.ctx.scanner,
            settings=desk.app.ctx.settings,
            conversation_id=ticket.conversation_id,
            ticket=ticket,
            uploader="agent",
            agent_id=desk.seed.agents["fin"].id,
            filename="talimat.pdf",
            data=pdf(),
        )
    docs = (await customer.get(f"/panel/api/requests/{number}")).json()["documents"]
    assert [(d["filename"], d["sender"]) for d in docs] == [
        ("dekont.pdf", "customer"),
        ("ekran.png", "customer"),
        ("talimat.pdf", "agent"),
    ]
    assert all(d["url"].startswith(f"/panel/api/requests/{number}/documents/") for d in docs)
    for d in docs:
        assert (await customer.get(d["url"])).status_code == 200, d["filename"]
    assert "agent_id" not in json.dumps(docs) and "storage_key" not in json.dumps(docs)
    await customer.aclose()


# --- files that are refused -------------------------------------------------


@pytest.mark.parametrize(("label", "name", "data", "code"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_the_chats_refusals_hold_in_the_panel(
    desk: Desk,
    sessionmaker: async_sessionmaker[AsyncSession],
    label: str,
    name: str,
    data: bytes,
    code: str,
) -> None:
    number = await hand_off(desk, "ayse_k")
    customer = await signed_in(desk, "ayse_k")
    res = await attach(customer, number, data, name, "application/octet-stream")
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == code
    assert res.json()["error"]["message"] == REFUSAL_CODES[code][1]
    assert stored_files(desk.document_dir) == [] and await count(sessionmaker, Document) == 0
    assert await count(sessionmaker, Message) == 2  # the handoff's own two lines, no paperclip
    assert desk.channel.echoed == []
    await customer.aclose()


async def test_too_large_and_no_file_are_clear_refusals(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    small = await start_desk(start_app, db_url, seed, tmp_path, document_max_bytes=1000)
    number = await hand_off(small, "ayse_k")
    customer = await signed_in(small, "ayse_k")
    res = await attach(customer, number, png((400, 400), (1, 2, 3)) + b"\0" * 2000)
    assert res.status_code == 413 and res.json()["error"]["code"] == "too_large"
    res = await customer.post(f"/panel/api/requests/{number}/documents", files={"other": ("a.png", png(), "image/png")})
    assert res.status_code == 422 and res.json()["error"]["code"] == "no_file"
    res = await customer.post(f"/panel/api/requests/{number}/documents", content=b"not a form")
    assert res.status_code == 422 and res.json()["error"]["code"] == "no_file"
    assert await count(sessionmaker, Document) == 0
    await customer.aclose()
    await small.client.aclose()


async def test_a_scanner_that_is_down_holds_the_file_and_serves_nobody(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path
) -> None:
    held_desk = await start_desk(start_app, db_url, seed, tmp_path, clamd_address=f"127.0.0.1:{free_port()}")
    number = await hand_off(held_desk, "ayse_k")
    customer = await signed_in(held_desk, "ayse_k")
    res = await attach(customer, number, png())
    assert res.status_code == 201, res.text
    doc = res.json()["document"]
    assert doc["status"] == "held" and stored_files(held_desk.document_dir)  # kept, never lost
    assert [d["status"] for d in (await customer.get(f"/panel/api/requests/{number}")).json()["documents"]] == ["held"]
    held = await customer.get(doc["url"])
    assert held.status_code == 409 and held.json()["error"]["code"] == "document_held"
    assert held.headers["content-type"].startswith("application/json")
    await customer.aclose()
    await held_desk.client.aclose()


async def test_a_closed_or_archived_request_takes_no_file(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    closed = await hand_off(desk, "ayse_k")
    await close(desk, closed, await claimed(desk, closed))
    archived = await hand_off(desk, "ayse_k")
    await close(desk, archived, await claimed(desk, archived))
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Ticket).where(Ticket.id == int(archived[2:])).values(archived_at=utcnow()))
    customer = await signed_in(desk, "ayse_k")
    for number in (closed, archived):
        res = await attach(customer, number, png())
        assert res.status_code == 409, res.text
        assert res.json()["error"] == {
            "code": "request_closed",
            "message": "this request is closed: start a new conversation to write to us",
        }
    assert await count(sessionmaker, Document) == 0 and stored_files(desk.document_dir) == []
    await customer.aclose()


# --- who opens what ---------------------------------------------------------


async def test_another_customers_request_or_document_reads_as_missing(desk: Desk) -> None:
    mine = await hand_off(desk, "ayse_k")
    my_other = await hand_off(desk, "ayse_k")
    theirs = await hand_off(desk, "mehmet_y")
    ayse = await signed_in(desk, "ayse_k")
    mehmet = await signed_in(desk, "mehmet_y")
    my_doc = (await attach(ayse, mine, png())).json()["document"]
    their_doc = (await attach(mehmet, theirs, png())).json()["document"]

    # a number that is not the customer's: exactly the answer a missing number gets
    missing_request = await ayse.get("/panel/api/requests/T-999999/documents/1")
    assert missing_request.status_code == 404 and missing_request.json()["error"]["code"] == "request_not_found"
    for number in (theirs, "T-999999", "garbage"):
        for res in (
            await ayse.get(f"/panel/api/requests/{number}/documents/{their_doc['id']}"),
            await attach(ayse, number, png()),
        ):
            assert (res.status_code, res.content) == (missing_request.status_code, missing_request.content), number
    # their document (or one of another request of mine) under my number: a missing document
    missing_doc = await ayse.get(f"/panel/api/requests/{mine}/documents/999999")
    assert missing_doc.status_code == 404 and missing_doc.json()["error"]["code"] == "document_not_found"
    for url in (
        f"/panel/api/requests/{mine}/documents/{their_doc['id']}",
        f"/panel/api/requests/{my_other}/documents/{my_doc['id']}",
        f"/panel/api/requests/{mine}/documents/0",
        f"/panel/api/requests/{mine}/documents/99999999999999",
    ):
        res = await ayse.get(url)
        assert (res.status_code, res.content) == (missing_doc.status_code, missing_doc.content), url
    assert (await mehmet.get(my_doc["url"])).status_code == 404
    assert (await ayse.get(my_doc["url"])).status_code == 200
    await ayse.aclose()
    await mehmet.aclose()


async def test_agents_and_anonymous_visitors_open_nothing_in_the_panel(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number = await hand_off(desk, "ayse_k")
    fin = await claimed(desk, number)
    ayse = await signed_in(desk, "ayse_k")
    doc = (await attach(ayse, number, png())).json()["document"]
    agent_token = fin["Authorization"].split(" ", 1)[1]
    strangers = {
        "anonymous": ({}, {}),
        "an agent's bearer token": (fin, {}),
        "an agent's session cookie": ({}, {"handoff_session": agent_token}),
        "an agent's token as the panel's cookie": ({}, {"panel_session": agent_token}),
        "a forged panel cookie": ({}, {"panel_session": "e30.forged"}),
    }
    for who, (headers, cookies) in strangers.items():
        async with httpx.AsyncClient(base_url=desk.base_url, cookies=cookies, timeout=30) as other:
            for res in (
                await other.get(doc["url"], headers=headers),
                await other.post(
                    f"/panel/api/requests/{number}/documents",
                    files={"file": ("a.png", png(), "image/png")},
                    headers=headers,
                ),
            ):
                assert res.status_code == 401 and res.json()["error"]["code"] == "unauthorized", who
    # the panel's cookie opens nothing outside the panel either
    panel_cookie = ayse.cookies.get("panel_session", path="/panel")
    for res in (
        await ayse.get(f"/documents/{doc['id']}"),
        await ayse.get(f"/documents/{doc['id']}", headers={"Authorization": f"Bearer {panel_cookie}"}),
        await ayse.get(f"/api/v1/tickets/{number}/documents", headers={"Authorization": f"Bearer {panel_cookie}"}),
    ):
        assert res.status_code in (401, 404)
    # a page of another origin cannot attach with the customer's cookie
    res = await ayse.post(
        f"/panel/api/requests/{number}/documents",
        files={"file": ("a.png", png(), "image/png")},
        headers={"Origin": "http://evil.example"},
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "cross_origin"
    assert await count(sessionmaker, Document) == 1
    await ayse.aclose()


# --- the panel's messages in the chat ----------------------------------------


async def test_a_panel_message_is_shown_in_the_chat_once_and_not_kept_twice(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conversation_id = new_conversation_id()
    number = await hand_off(desk, "ayse_k", conversation_id)
    customer = await signed_in(desk, "ayse_k")
    path = f"/panel/api/requests/{number}/messages"
    assert (await customer.post(path, json={"text": "Dekontu ekledim", "client_id": "p-1"})).status_code == 201
    assert (await customer.post(path, json={"text": "Dekontu ekledim", "client_id": "p-1"})).status_code == 200
    assert desk.channel.echoed == [(conversation_id, "Dekontu ekledim")]  # a retry is not shown twice
    # Rasa publishes the echoed line as a bot event: the consumer keeps it out of the bot's lines
    echoed = {
        "event": "bot",
        "sender_id": conversation_id,
        "timestamp": (utcnow() + timedelta(seconds=5)).timestamp(),
        "text": "Dekontu ekledim",
        "metadata": {"sender": "customer"},
    }
    event = parse_event(echoed)
    assert event.kind is None
    async with sessionmaker() as session, session.begin():
        assert await record_event(session=session, event=event) is None
    async with sessionmaker() as session:
        texts = list(
            (await session.execute(select(Message.text).where(Message.ticket_id == int(number[2:])))).scalars()
        )
    assert texts.count("Dekontu ekledim") == 1
    assert parse_event({**echoed, "metadata": {"sender": "agent"}}).kind == "agent"  # agents' lines as before
    await customer.aclose()


async def test_every_refusal_reads_in_the_panel_in_turkish_and_english() -> None:
    labels = page_labels("panel")
    assert set(labels) == {"tr", "en"}
    for keys in labels.values():
        missing = [code for code in (*REFUSAL_CODES, "failed", "request_closed") if f"doc_{code}" not in keys]
        assert missing == []


async def test_the_document_routes_answer_as_documented(desk: Desk) -> None:
    number = await hand_off(desk, "ayse_k")
    closed = await hand_off(desk, "ayse_k")
    await close(desk, closed, await claimed(desk, closed))
    customer = await signed_in(desk, "ayse_k")
    check = Checker(customer, (await desk.client.get("/api/v1/openapi.json")).json())
    path = "/panel/api/requests/{number}/documents"
    added = await check("POST", path, number, files={"file": ("a.png", png(), "image/png")})
    await check("POST", path, number, files={"file": ("a.svg", b"<svg/>", "image/svg+xml")})
    await check("POST", path, closed, files={"file": ("a.png", png(), "image/png")})
    await check("POST", path, "T-999999", files={"file": ("a.png", png(), "image/png")})
    await check("GET", "/panel/api/requests/{number}", number)
    assert added["document"]["url"].startswith(f"/panel/api/requests/{number}/documents/")
    assert check.statuses >= {201, 404, 409, 422, 200}
    await customer.aclose()


class _ChatDown(RecordingChannel):
    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        raise ChannelError("Rasa unreachable: ConnectError")


async def test_a_chat_that_cannot_be_reached_loses_nothing(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    settings = make_settings(
        db_url, customer_token_secret=SECRET, conversation_secret_key=CONVERSATION_KEY, document_dir=tmp_path / "d"
    )
    channel = _ChatDown()
    app = create_app(settings, channel=channel, name=f"panel_docs_down_{uuid.uuid4().hex[:8]}")
    base_url = (await start_app(app)).base_url
    down = Desk(app, base_url, httpx.AsyncClient(base_url=base_url, timeout=30), channel, tmp_path / "d", seed)
    number = await hand_off(down, "ayse_k")
    customer = await signed_in(down, "ayse_k")
    assert (await attach(customer, number, png())).status_code == 201
    res = await customer.post(f"/panel/api/requests/{number}/messages", json={"text": "Orada mısınız?"})
    assert res.status_code == 201, res.text
    async with sessionmaker() as session:
        texts = list((await session.execute(select(Message.text).where(Message.channel == "panel"))).scalars())
    assert texts == ["\N{PAPERCLIP} ekran.png", "Orada mısınız?"]
    assert await count(sessionmaker, Document) == 1
    await customer.aclose()
    await down.client.aclose()


async def test_a_50_mb_file_is_refused_before_it_is_read(
    desk: Desk, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number = await hand_off(desk, "ayse_k")
    customer = await signed_in(desk, "ayse_k")
    port = int(desk.base_url.rsplit(":", 1)[1])
    head = (
        f"POST /panel/api/requests/{number}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: panel_session={customer.cookies.get('panel_session', path='/panel')}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
    )
    declared = await _post_raw(port, f"{head}Content-Length: {50 * 1024 * 1024}\r\n\r\n", _megabytes(50))
    streamed = await _post_raw(port, f"{head}Transfer-Encoding: chunked\r\n\r\n", _megabytes(50, chunked=True))
    for answer in (declared, streamed):
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":"too_large"' in answer
    assert stored_files(desk.document_dir) == [] and await count(sessionmaker, Document) == 0
    await customer.aclose()


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    with running_clamd(tmp_path_factory.mktemp("clamd")) as daemon:
        yield daemon


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_eicar_file_is_refused_in_the_panel_too(
    clamd: Clamd,
    db_url: str,
    seed: Seed,
    start_app: StartApp,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    scanned = await start_desk(start_app, db_url, seed, tmp_path, clamd_address=clamd.address)
    number = await hand_off(scanned, "ayse_k")
    customer = await signed_in(scanned, "ayse_k")
    res = await attach(customer, number, EICAR, "eicar.png", "image/png")
    assert res.status_code == 422 and res.json()["error"]["code"] == "infected"
    assert stored_files(scanned.document_dir) == [] and await count(sessionmaker, Document) == 0
    clean = await attach(customer, number, png())
    assert clean.status_code == 201 and clean.json()["document"]["status"] == "stored"
    await customer.aclose()
    await scanned.client.aclose()
