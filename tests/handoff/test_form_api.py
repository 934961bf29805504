"""The request form's API (POST /form/api/requests) on SQLite and PostgreSQL:
triage as the chat's, the age gate, the signed-in customer, the checks,
abuse (honeypot, rate limits, a double post, an oversized body), documents,
joining an open request, the acknowledgement mail and the live update."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from sanic import Sanic
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.models import Base, Document, Message, OutboundMail, RateMark, Ticket, TicketContact, utcnow
from handoff.services.form_checks import FIELD_ERRORS
from handoff.services.retention import apply_retention
from handoff.settings import REPO_ROOT
from support_rules.catalogue import load_catalogue
from support_rules.customer_token import mint_customer_token
from support_rules.priority import PriorityRules, decide_priority
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import png, zip_bytes
from tests.handoff.form_helpers import (
    CUSTOMER_SECRET,
    adult_fields,
    days_ago,
    desk_today,
    multipart,
    post_form,
    post_raw,
)
from tests.handoff.helpers import live_events, login, make_settings, next_event
from tests.handoff.test_openapi import Checker


@dataclass
class Form:
    app: Sanic
    base_url: str
    client: httpx.AsyncClient


async def _start(db_url: str, start_app: StartApp, **overrides: object) -> Form:
    settings = {"customer_token_secret": CUSTOMER_SECRET, "panel_session_max_age_seconds": 3600, **overrides}
    app = create_app(make_settings(db_url, **settings), name=f"form_{uuid.uuid4().hex[:8]}")
    running = await start_app(app)
    return Form(app, running.base_url, httpx.AsyncClient(base_url=running.base_url, timeout=30))


@pytest.fixture
async def form(db_url: str, seed: Seed, start_app: StartApp) -> AsyncIterator[Form]:
    running = await _start(db_url, start_app)
    yield running
    await running.client.aclose()


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type[Base]) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def ticket(sessionmaker: async_sessionmaker[AsyncSession], number: str) -> Ticket:
    async with sessionmaker() as session:
        return (await session.execute(select(Ticket).where(Ticket.id == int(number[2:])))).scalar_one()


async def signed_in(base_url: str, username: str) -> httpx.AsyncClient:
    customer = httpx.AsyncClient(base_url=base_url, timeout=30)
    res = await customer.post("/panel/api/session", json={"token": mint_customer_token(username, CUSTOMER_SECRET)})
    assert res.status_code == 200, res.text
    return customer


async def test_an_adult_anonymous_request_is_triaged_as_the_chat_and_acknowledged(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    fin = await login(form.client, "fin")
    async with live_events(form.client, fin) as events:
        res = await post_form(form.client, adult_fields())
        assert res.status_code == 201, res.text
        answer = res.json()
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"], data["department"]) == (
            "ticket.queued",
            answer["ticket_number"],
            "finance",
        )
    assert answer["joined"] is False and answer["queue_position"] == 1 and answer["expected_wait_seconds"] > 0
    assert answer["acknowledgement_mail"] is True and answer["documents"] == []
    stored = await ticket(sessionmaker, answer["ticket_number"])
    catalogue = load_catalogue(REPO_ROOT / "data" / "catalogue.yml")
    expected = decide_priority(
        description=adult_fields()["description"],
        department="finance",
        topic_id="deposit",
        transaction_date=date.fromisoformat(days_ago(2)),
        today=desk_today(),
        rules=PriorityRules.from_catalogue(catalogue),
    )
    assert (stored.channel, stored.topic_id, stored.department_id, stored.language) == (
        "form",
        "deposit",
        "finance",
        "tr",
    )
    assert (stored.priority, stored.priority_reason) == (expected.level, expected.reason)
    assert stored.account_username is None and stored.username == "ayse_k"
    assert stored.summary["age_check"] == {"result": "over_18", "method": "birth_date"}
    assert stored.summary["transaction_date"] == days_ago(2)
    assert "4111 1111 1111 1111" not in json.dumps(stored.summary) and "1111" in stored.summary["description"]
    assert stored.summary["contact_email"] == "ayse@example.com"
    assert "1990" not in json.dumps(stored.summary)  # the birth date is not kept
    async with sessionmaker() as session:
        mail = (await session.execute(select(OutboundMail))).scalar_one()
        contact = (await session.execute(select(TicketContact))).scalar_one()
    assert (mail.kind, mail.to_address, mail.automatic, mail.ticket_id) == ("ack", "ayse@example.com", True, stored.id)
    assert answer["ticket_number"] in mail.subject and "Para yatırma" in mail.subject
    assert answer["ticket_number"] in mail.body and "sıradasınız" in mail.body
    assert contact.channel == "form" and contact.conversation_id.startswith("form:")
    # the agent's console has it: claim it and read its summary
    claimed = await form.client.post(f"/api/v1/tickets/{answer['ticket_number']}/claim", headers=fin)
    assert claimed.status_code == 200, claimed.text
    seen = (await form.client.get(f"/api/v1/tickets/{answer['ticket_number']}", headers=fin)).json()
    assert seen["summary"]["channel"] == "form" and seen["status"] == "assigned"
    assert "yansımadı" in seen["summary"]["description"] and "4111 1111 1111 1111" not in json.dumps(seen)


async def test_an_english_request_without_a_language_is_read_from_its_description(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    fields = adult_fields(language="", description="My withdrawal has not arrived in my bank account yet.")
    res = await post_form(form.client, fields)
    assert res.status_code == 201, res.text
    stored = await ticket(sessionmaker, res.json()["ticket_number"])
    assert stored.language == "en"
    async with sessionmaker() as session:
        mail = (await session.execute(select(OutboundMail))).scalar_one()
    assert mail.language == "en" and "Deposit" in mail.subject and "We have received your request" in mail.body


async def test_under_18_is_refused_politely_and_nothing_is_kept(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    born = desk_today().replace(year=desk_today().year - 16).isoformat()
    res = await post_form(form.client, adult_fields(birth_date=born), [("dekont.png", png(), "image/png")])
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == "under_18"
    for model in (Ticket, TicketContact, Message, OutboundMail, RateMark, Document):
        assert await count(sessionmaker, model) == 0, model.__name__


async def test_a_signed_in_customer_needs_no_birth_date_and_sees_the_request_in_the_panel(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    customer = await signed_in(form.base_url, "mehmet_y")
    assert (await customer.get("/form/api/session")).json() == {"customer": {"username": "mehmet_y"}}
    assert (await form.client.get("/form/api/session")).json() == {"customer": None}
    fields = adult_fields(birth_date=None, email=None, username="someone_else", language="en")
    res = await post_form(customer, fields)
    assert res.status_code == 201, res.text
    number = res.json()["ticket_number"]
    assert res.json()["acknowledgement_mail"] is False
    stored = await ticket(sessionmaker, number)
    assert stored.account_username == "mehmet_y" and stored.username == "mehmet_y"  # the account's, not the typed one
    assert stored.summary["age_check"]["method"] == "verified_token"
    listed = (await customer.get("/panel/api/requests")).json()
    assert [(r["number"], r["channel"]) for r in listed["open"]] == [(number, "form")]
    assert await count(sessionmaker, OutboundMail) == 0
    await customer.aclose()


@pytest.mark.parametrize(
    "overrides, field, code",
    [
        ({"transaction_date": days_ago(-3)}, "transaction_date", "future"),
        ({"transaction_date": days_ago(400)}, "transaction_date", "too_old"),
        ({"transaction_date": "31.02.2026"}, "transaction_date", "invalid"),
        ({"transaction_date": ""}, "transaction_date", "required"),
        ({"email": "ayse@@example"}, "email", "invalid"),
        ({"email": "<script>@x.com"}, "email", "invalid"),
        ({"email": ""}, "email", "required"),
        ({"birth_date": ""}, "birth_date", "required"),
        ({"birth_date": "dün"}, "birth_date", "invalid"),
        ({"topic": "nonsense"}, "topic", "unknown"),
        ({"description": "  "}, "description", "required"),
        ({"username": "1 bad name"}, "username", "invalid"),
    ],
    ids=[
        "future",
        "too-old",
        "no-such-day",
        "date-missing",
        "email-broken",
        "email-markup",
        "email-missing",
        "birth-missing",
        "birth-unreadable",
        "topic",
        "description",
        "username",
    ],
)
async def test_a_wrong_field_answers_its_code_and_creates_nothing(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession], overrides: dict[str, str], field: str, code: str
) -> None:
    res = await post_form(form.client, adult_fields(**overrides))
    assert res.status_code == 422, res.text
    error = res.json()["error"]
    assert error["code"] == "invalid_fields" and error["fields"] == {field: code}
    assert await count(sessionmaker, Ticket) == 0 and await count(sessionmaker, RateMark) == 0


async def test_the_honeypot_answers_like_a_success_and_creates_nothing(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    res = await post_form(form.client, adult_fields(website="http://spam.example"))
    assert res.status_code == 201, res.text
    assert res.json()["ticket_number"].startswith("T-") and res.json()["joined"] is False
    for model in (Ticket, TicketContact, OutboundMail, RateMark):
        assert await count(sessionmaker, model) == 0, model.__name__


async def test_a_double_post_makes_one_request(form: Form, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    key = str(uuid.uuid4())
    first, second = await asyncio.gather(
        post_form(form.client, adult_fields(), key=key), post_form(form.client, adult_fields(), key=key)
    )
    assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
    assert first.json()["ticket_number"] == second.json()["ticket_number"]
    retried = await post_form(form.client, adult_fields(), key=key)
    assert retried.status_code == 200 and retried.json()["ticket_number"] == first.json()["ticket_number"]
    assert retried.json()["joined"] is False
    assert await count(sessionmaker, Ticket) == 1 and await count(sessionmaker, OutboundMail) == 1
    assert await count(sessionmaker, RateMark) == 2  # the address and the e-mail, once


async def test_the_rate_limits_per_address_and_per_email(
    db_url: str, seed: Seed, start_app: StartApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    running = await _start(db_url, start_app, form_max_per_address=3, form_max_per_email=2)
    client = running.client
    for topic in ("deposit", "withdrawal"):
        assert (await post_form(client, adult_fields(topic=topic))).status_code == 201
    refused = await post_form(client, adult_fields(topic="promotion"))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert (await post_form(client, adult_fields(email="other@example.com"))).status_code == 201
    refused = await post_form(client, adult_fields(email="third@example.com", topic="promotion"))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert await count(sessionmaker, Ticket) == 3
    async with sessionmaker() as session:
        keys = (await session.execute(select(RateMark.key))).scalars().all()
    assert all(len(k) == 64 and "example" not in k and "127.0.0.1" not in k for k in keys)  # hashed
    await client.aclose()


async def test_an_oversized_body_is_refused_before_it_is_read(
    db_url: str, seed: Seed, start_app: StartApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    running = await _start(db_url, start_app, document_max_bytes=2000, form_max_files=1)
    body, content_type = multipart(adult_fields(), [("big.png", b"\x89PNG" + b"0" * 3_000_000, "image/png")])
    port = int(running.base_url.rsplit(":", 1)[1])
    head = (
        "POST /form/api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nIdempotency-Key: kkkkkkkkkkkk\r\n"
        f"Content-Type: {content_type}\r\n"
    )
    # a declared length over the limit: refused on the header, before the body is read
    declared = await post_raw(port, f"{head}Content-Length: {len(body)}\r\n\r\n", body)
    # streamed without a length: cut off at the limit
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    streamed = await post_raw(port, f"{head}Transfer-Encoding: chunked\r\n\r\n", chunked)
    for answer in (declared, streamed):
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":"body_too_large"' in answer
    two = await post_form(
        running.client, adult_fields(), [("a.png", png(), "image/png"), ("b.png", png(), "image/png")]
    )
    assert two.status_code == 422 and two.json()["error"]["fields"] == {"files": "too_many"}
    bad = await running.client.post(
        "/form/api/requests",
        content=b"--x\r\nbroken",
        headers={"Content-Type": "text/plain", "Idempotency-Key": "k" * 12},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_body"
    no_key = await running.client.post("/form/api/requests", content=body[:100], headers={"Content-Type": content_type})
    assert no_key.status_code == 400 and no_key.json()["error"]["code"] == "idempotency_key_required"
    assert await count(sessionmaker, Ticket) == 0
    await running.client.aclose()


async def test_documents_are_received_after_the_request_and_refused_one_by_one(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    files = [("dekont.png", png(), "image/png"), ("evil.zip", zip_bytes(), "application/zip")]
    res = await post_form(form.client, adult_fields(language="en"), files)
    assert res.status_code == 201, res.text
    outcome = {d["filename"]: d for d in res.json()["documents"]}
    assert outcome["dekont.png"]["document"]["content_type"] == "image/png"
    assert outcome["evil.zip"]["refused"] == "unsupported_type" and outcome["evil.zip"].get("document") is None
    fin = await login(form.client, "fin")
    number = res.json()["ticket_number"]
    listed = (await form.client.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
    assert [d["filename"] for d in listed] == ["dekont.png"]
    async with sessionmaker() as session:
        lines = (await session.execute(select(Message).where(Message.channel == "form"))).scalars().all()
    assert any("dekont.png" in m.text for m in lines)


async def test_the_same_account_and_topic_joins_the_open_request_another_topic_opens_one(
    form: Form, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    fin = await login(form.client, "fin")
    customer = await signed_in(form.base_url, "ayse_k")
    signed = adult_fields(birth_date=None, username=None)
    first = (await post_form(customer, signed)).json()
    claimed = await form.client.post(f"/api/v1/tickets/{first['ticket_number']}/claim", headers=fin)
    assert claimed.status_code == 200, claimed.text
    async with live_events(form.client, fin) as events:  # the owner hears of the new line
        more = "Bir de dekontu ekliyorum, IBAN TR33 0006 1005 1978 6457 8413 26"
        joined = await post_form(customer, {**signed, "description": more})
        assert joined.status_code == 201, joined.text
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"]) == ("message.new", first["ticket_number"])
    assert joined.json()["joined"] is True and joined.json()["ticket_number"] == first["ticket_number"]
    assert await count(sessionmaker, Ticket) == 1
    async with sessionmaker() as session:
        kinds = (await session.execute(select(OutboundMail.kind).order_by(OutboundMail.id))).scalars().all()
        texts = (await session.execute(select(Message.text).where(Message.channel == "form"))).scalars().all()
    assert kinds == ["ack", "joined"]
    assert any("dekontu ekliyorum" in t for t in texts) and not any("6457 8413" in t for t in texts)
    other = await post_form(customer, {**signed, "topic": "withdrawal", "transaction_type": "withdrawal"})
    assert other.status_code == 201 and other.json()["joined"] is False
    assert other.json()["ticket_number"] != first["ticket_number"]
    assert await count(sessionmaker, Ticket) == 2
    # someone else who types her address learns nothing of her request
    stranger = await post_form(form.client, adult_fields())
    assert stranger.status_code == 201 and stranger.json()["joined"] is False
    assert stranger.json()["ticket_number"] not in (first["ticket_number"], other.json()["ticket_number"])
    await customer.aclose()


async def test_the_catalogue_comes_in_the_pages_language(form: Form) -> None:
    tr = (await form.client.get("/form/catalogue.json?lang=tr")).json()
    en = (await form.client.get("/form/catalogue.json?lang=en")).json()
    assert {t["id"]: t["name"] for t in tr["topics"]}["deposit"] == "Para yatırma"
    assert {t["id"]: t["name"] for t in en["topics"]}["deposit"] == "Deposit"
    assert {t["id"]: t["skips_date"] for t in en["transaction_types"]}["none"] is True
    assert en["today"] == desk_today().isoformat() and en["transaction_max_age_days"] == 180
    assert (await form.client.get("/form/")).status_code == 200
    for name in ("form.js", "i18n.js", "form.css", "documents_i18n.js"):
        assert (await form.client.get(f"/form/{name}")).status_code == 200, name


async def test_the_answers_match_the_document(form: Form) -> None:
    doc = (await form.client.get("/api/v1/openapi.json")).json()
    check = Checker(form.client, doc)
    body, content_type = multipart(adult_fields())
    headers = {"Content-Type": content_type, "Idempotency-Key": str(uuid.uuid4())}
    await check("POST", "/form/api/requests", content=body, headers=headers)
    await check("POST", "/form/api/requests", content=body, headers=headers)
    bad, bad_type = multipart(adult_fields(email="nope"))
    await check(
        "POST", "/form/api/requests", content=bad, headers={"Content-Type": bad_type, "Idempotency-Key": "k" * 12}
    )
    await check("GET", "/form/catalogue.json")
    await check("GET", "/form/api/session")
    assert {200, 201, 422} <= check.statuses


async def test_retention_forgets_the_marks_that_no_longer_count(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        session.add_all([RateMark(key="a" * 64, at=now - timedelta(hours=2)), RateMark(key="b" * 64, at=now)])
    async with sessionmaker() as session, session.begin():
        await apply_retention(
            session=session, archive_after_days=30, purge_after_days=365, now=now, rate_window_seconds=3600
        )
    async with sessionmaker() as session:
        assert (await session.execute(select(RateMark.key))).scalars().all() == ["b" * 64]


async def test_a_burst_from_one_address_counts_exactly(
    db_url: str, seed: Seed, start_app: StartApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    running = await _start(db_url, start_app, form_max_per_address=3)
    topics = ["deposit", "withdrawal", "promotion", "bet_settlement", "app", "password", "login", "other"]
    answers = await asyncio.gather(
        *(post_form(running.client, adult_fields(topic=t, email=f"c{i}@example.com")) for i, t in enumerate(topics))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [429] * 5, [a.text for a in answers]
    assert await count(sessionmaker, Ticket) == 3 and await count(sessionmaker, OutboundMail) == 3
    await running.client.aclose()


def _labels(language: str) -> set[str]:
    source = (REPO_ROOT / "handoff" / "form" / "i18n.js").read_text(encoding="utf-8")
    block = source.split(f"\n  {language}: {{", 1)[1].split("\n  }", 1)[0]
    return set(re.findall(r"(?:^|[\s,])([A-Za-z_0-9]+): \"", block))


def test_every_label_and_every_field_code_is_there_in_turkish_and_english() -> None:
    tr, en = _labels("tr"), _labels("en")
    assert tr == en and len(tr) > 60
    codes = {f"err_{field}_{code}" for field, field_codes in FIELD_ERRORS.items() for code in field_codes}
    assert codes | {"err_files_too_many", "error_rate_limited", "error_body_too_large", "under18"} <= tr
