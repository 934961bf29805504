"""An agent's reply on a request that came by e-mail or the request form:
queued as mail with the reply, sent by the relay worker of the running
service to a real SMTP server, once, threaded and in the customer's
language; the chat (Rasa) never hears of it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.live_bus import InMemoryLiveBus
from handoff.models import MailMessage, Message, Ticket
from handoff.services.channel import RecordingChannel
from handoff.services.contacts import join_request
from handoff.services.outbound_mail import load_mail_texts, queue_mail
from handoff.settings import Settings
from support_rules.summary import TranscriptLine
from tests.handoff.conftest import Collected, Seed, StartApp
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login, make_settings
from tests.handoff.mail_helpers import SmtpSink, open_mail_request, outbound_rows, wait_until

FAST = {"mail_retry_seconds": 0.2, "mail_retry_max_seconds": 0.4, "mail_relay_poll_seconds": 0.1}


def _settings(db_url: str, relay: str, **overrides: object) -> Settings:
    return make_settings(
        db_url,
        mail_relay=relay,
        mail_address="destek@desk.example",
        mail_relay_timeout_seconds=3.0,
        **FAST,
        **overrides,
    )


async def _start(start_app: StartApp, settings: Settings, bus: InMemoryLiveBus) -> tuple[str, RecordingChannel]:
    channel = RecordingChannel()
    app = create_app(settings, channel=channel, bus=bus, name=f"handoff_{uuid.uuid4().hex[:8]}", send_mail=True)
    return (await start_app(app)).base_url, channel


async def _claim_and_reply(base_url: str, number: str, text: str, client_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        headers = await login(client, "fin")
        res = await client.post(f"/api/v1/tickets/{number}/claim", headers=headers)
        assert res.status_code in (200, 409), res.text
        return await client.post(
            f"/api/v1/tickets/{number}/reply", json={"text": text, "client_id": client_id}, headers=headers
        )


async def _delivered_at(sessionmaker: async_sessionmaker[AsyncSession], message_id: int):  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return (await session.get(Message, message_id, populate_existing=True)).delivered_at  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("language", "closing", "keep"),
    [("tr", "Müşteri Destek", "numarasını koruyun"), ("en", "Customer Support", "keep T-")],
)
async def test_a_reply_on_an_email_request_arrives_once_threaded_in_the_customers_language(
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    start_app: StartApp,
    bus: InMemoryLiveBus,
    collected: Collected,
    language: str,
    closing: str,
    keep: str,
) -> None:
    sink = await SmtpSink().start()
    try:
        settings = _settings(db_url, sink.url)
        ticket = await open_mail_request(
            sessionmaker, settings, language=language, inbound_message_id="<first@example.com>"
        )
        # the desk acknowledged the request: the thread is the customer's mail, then the desk's
        async with sessionmaker() as session, session.begin():
            ack = await queue_mail(
                session=session,
                texts=load_mail_texts(settings.mail_texts_path),
                kind="ack",
                to_address="ayse@example.com",
                language=language,
                subject=f"[{ticket.number}] x",
                values={"ticket_number": ticket.number, "queue_position": 1, "wait_minutes": 5},
                domain="desk.example",
                ticket=ticket,
                in_reply_to="<first@example.com>",
                references=["<first@example.com>"],
                automatic=True,
            )
            assert ack is not None
            ack_id = ack.message_id
        base_url, chat = await _start(start_app, settings, bus)
        await sink.wait_for(1)  # the acknowledgement left first

        res = await _claim_and_reply(base_url, ticket.number, "Paranız hesabınıza geçti / credited.", "draft-1")
        assert res.status_code == 201, res.text
        answer = res.json()
        assert answer["delivered"] is False and answer["channel"] == "email"  # queued, not sent yet
        received = await sink.wait_for(2)
        await wait_until(lambda: _delivered_at(sessionmaker, answer["id"]))

        # the same draft sent again (a timeout in the console): counted once, mailed once
        again = await _claim_and_reply(base_url, ticket.number, "Paranız hesabınıza geçti / credited.", "draft-1")
        assert again.status_code == 200 and again.json()["delivered"] is True
        await wait_until(lambda: any(e.get("type") == "message.delivered" for e in collected.events))
    finally:
        await sink.stop()

    assert len(received) == 2
    reply = received[1]
    assert sink.recipients[1] == ["ayse@example.com"]
    assert f"[{ticket.number}]" in reply["Subject"]
    assert reply["In-Reply-To"] == ack_id
    assert reply["References"].split() == ["<first@example.com>", ack_id]
    assert reply["Content-Language"] == language
    assert reply["Auto-Submitted"] is None and received[0]["Auto-Submitted"] == "auto-replied"
    assert reply["From"].addresses[0].addr_spec == "destek@desk.example"
    assert reply["From"].addresses[0].display_name == closing
    body = reply.get_content()
    assert "Paranız hesabınıza geçti / credited." in body and closing in body and keep in body
    assert "Fatma Finans" in body
    assert chat.sent == []  # Rasa never heard of it
    [row] = await outbound_rows(sessionmaker, message_row_id=answer["id"])
    assert (row.status, row.attempts) == ("sent", 0) and row.sent_at is not None
    assert reply["Message-ID"] == row.message_id
    async with sessionmaker() as session:
        thread = (await session.execute(select(MailMessage).where(MailMessage.ticket_id == ticket.id))).scalars()
        assert row.message_id in {m.message_id for m in thread}  # the customer's answer threads back
    delivered = [e for e in collected.events if e.get("type") == "message.delivered"]
    assert delivered == [
        {
            "type": "message.delivered",
            "ticket_number": ticket.number,
            "department": "finance",
            "assignee_id": seed.agents["fin"].id,
        }
    ]


async def test_a_relay_that_is_down_keeps_the_reply_waiting_until_it_is_back(
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    start_app: StartApp,
    bus: InMemoryLiveBus,
    collected: Collected,
) -> None:
    sink = SmtpSink()  # its port, nothing listening yet
    settings = _settings(db_url, sink.url)
    ticket = await open_mail_request(sessionmaker, settings, channel="form", language="en")
    base_url, chat = await _start(start_app, settings, bus)
    res = await _claim_and_reply(base_url, ticket.number, "We are checking it.", "draft-down")
    assert res.status_code == 201, res.text
    message_id = res.json()["id"]

    async def tried_twice() -> bool:
        [row] = await outbound_rows(sessionmaker, message_row_id=message_id)
        return row.attempts >= 2

    await wait_until(tried_twice)
    [row] = await outbound_rows(sessionmaker, message_row_id=message_id)
    assert row.status == "pending" and row.sent_at is None
    assert row.last_error and len(row.last_error) <= 300
    assert await _delivered_at(sessionmaker, message_id) is None
    assert not any(e.get("type") == "message.delivered" for e in collected.events)

    await sink.start()  # the relay is back
    try:
        await sink.wait_for(1)
        await wait_until(lambda: _delivered_at(sessionmaker, message_id))
        await wait_until(lambda: any(e.get("type") == "message.delivered" for e in collected.events))
        await asyncio.sleep(0.6)  # longer than the retry wait: nothing comes twice
    finally:
        await sink.stop()
    assert len(sink.received) == 1
    assert sink.received[0]["Content-Language"] == "en"
    [row] = await outbound_rows(sessionmaker, message_row_id=message_id)
    assert row.status == "sent" and row.attempts >= 2 and row.last_error is None
    assert chat.sent == []


async def test_no_relay_set_keeps_the_reply_queued(
    db_url: str, seed: Seed, sessionmaker: async_sessionmaker[AsyncSession], start_app: StartApp, bus: InMemoryLiveBus
) -> None:
    settings = _settings(db_url, "")
    ticket = await open_mail_request(sessionmaker, settings)
    base_url, chat = await _start(start_app, settings, bus)
    res = await _claim_and_reply(base_url, ticket.number, "Bakıyorum.", "draft-none")
    assert res.status_code == 201 and res.json()["delivered"] is False
    [row] = await outbound_rows(sessionmaker, message_row_id=res.json()["id"])
    assert (row.status, row.attempts, row.to_address) == ("pending", 0, "ayse@example.com")
    assert chat.sent == []


async def test_a_chat_ticket_an_email_joined_replies_by_email_and_a_chat_ticket_by_chat(
    db_url: str, seed: Seed, sessionmaker: async_sessionmaker[AsyncSession], start_app: StartApp, bus: InMemoryLiveBus
) -> None:
    settings = _settings(db_url, "")
    base_url, chat = await _start(start_app, settings, bus)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        body = summary("finance", conversation_id="conv-chat-mail", contact_email="ayse@example.com")
        body["topic"] = {"id": "deposit", "label": "Para yatırma"}
        res = await client.post("/api/v1/handoffs", json=body, headers=bot_headers("k-chat-mail"))
        assert res.status_code == 201, res.text
        number = res.json()["ticket_number"]
    # chat first: the reply goes to the chat
    first = await _claim_and_reply(base_url, number, "Merhaba, bakıyorum.", "chat-1")
    assert first.status_code == 201 and first.json()["delivered"] is True and first.json()["channel"] is None
    assert [m.text for m in chat.sent] == ["Merhaba, bakıyorum."]
    # then the customer writes about it by e-mail: it joins the ticket, the next reply goes by e-mail
    async with sessionmaker() as session, session.begin():
        ticket = await session.get(Ticket, int(number[2:]))
        assert ticket is not None
        await join_request(
            session=session,
            ticket=ticket,
            channel="email",
            conversation_id="email:thread-9",
            email="Ayse.Other@Example.com",
            lines=[TranscriptLine(sender="customer", text="Hâlâ yok.", timestamp=datetime.now(timezone.utc))],
        )
    second = await _claim_and_reply(base_url, number, "E-postanızı aldım.", "chat-2")
    assert second.status_code == 201 and second.json()["channel"] == "email"
    [row] = await outbound_rows(sessionmaker, message_row_id=second.json()["id"])
    assert row.to_address == "ayse.other@example.com" and row.language == "tr"
    assert len(chat.sent) == 1


async def test_notices_for_mail_requests_never_reach_the_chat(
    db_url: str, seed: Seed, sessionmaker: async_sessionmaker[AsyncSession], start_app: StartApp, bus: InMemoryLiveBus
) -> None:
    settings = _settings(db_url, "")
    ticket = await open_mail_request(sessionmaker, settings)
    channel = RecordingChannel()
    app = create_app(settings, channel=channel, bus=bus, name=f"handoff_{uuid.uuid4().hex[:8]}")
    await start_app(app)
    routed = app.ctx.channel
    await routed.notify(ticket.conversation_id, "Sıranız: 1")
    await routed.hand_back(ticket.conversation_id)
    await routed.echo_customer_line(ticket.conversation_id, "x")
    await routed.request_documents("form:abc", "belge")
    await routed.notify("conv-chat", "Sıranız: 2")  # a chat conversation goes on to the chat
    assert channel.notices == [("conv-chat", "Sıranız: 2")]
    assert channel.given_back == [] and channel.echoed == [] and channel.document_requests == []
    async with sessionmaker() as session:
        assert (await session.get(Ticket, ticket.id)).channel == "email"  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["tr", "en"])
async def test_documents_asked_of_an_email_customer_and_the_decision_go_by_mail(
    db_url: str,
    seed: Seed,
    start_app: StartApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    language: str,
) -> None:
    """The chat's notices never reach a customer who follows the request by
    e-mail: asking for documents and the verification decision are mailed
    in the thread, in the customer's language, and the agent sees no error."""
    sink = await SmtpSink().start()
    try:
        settings = _settings(db_url, sink.url)
        ticket = await open_mail_request(sessionmaker, settings, language=language)
        base_url, chat = await _start(start_app, settings, bus)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            fin = await login(client, "fin")
            assert (await client.post(f"/api/v1/tickets/{ticket.number}/claim", headers=fin)).status_code == 200
            asked = await client.post(f"/api/v1/tickets/{ticket.number}/request-documents", headers=fin)
            assert asked.status_code == 200, asked.text
        await wait_until(lambda: len(sink.received) >= 1)
        mail = sink.received[-1]
        assert f"[{ticket.number}]" in mail["Subject"] and mail["To"] == "ayse@example.com"
        body = mail.get_content()
        expected = "Lütfen şu belgeleri gönderin" if language == "tr" else "Please send us these documents"
        assert expected in body and ("bu sohbette" not in body and "in this chat" not in body)
        assert chat.document_requests == [] and chat.notices == []
    finally:
        await sink.stop()
