"""Every path by which the handoff service stores or shows text masks it
with support_rules.masking: the summary, agent replies (stored, sent to the
customer, answered), resolve and transfer notes (on the ticket and in the
audit log), customer lines relayed from Rasa's event broker (ticket
transcript and conversation transcript), and rows written before masking
covered them. On SQLite and PostgreSQL, over the real API."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import InMemoryLiveBus
from handoff.models import AuditEntry, ConversationEvent, Message, Ticket, utcnow
from tests.handoff.conftest import Running, Seed
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login
from tests.handoff.rasa_events import T0, SqlBroker, drain, open_ticket, source, user_event

Maker = async_sessionmaker[AsyncSession]

# Each secret as written, in a form the masking missed before (dots, glued
# to a word, dashes, a security code after CVV2).
CARD_DOTS = "4111.1111.1111.1111"
CARD_GLUED = "kartno5500005555555559"
IBAN_DASHES = "TR33-0006-1005-1978-6457-8413-26"
CVV = "CVV2 737"
WRITTEN = (CARD_DOTS, CARD_GLUED, IBAN_DASHES, CVV)
LEAKS = ("4111.1111", "5500005555555559", "0006-1005", "737")


def assert_masked(text: str) -> None:
    """No part of a secret (digits apart from other digits, so a timestamp's
    microseconds do not count)."""
    assert not [leak for leak in LEAKS if re.search(rf"(?<!\d){re.escape(leak)}(?!\d)", text)], text


async def _rows(sm: Maker, ticket_number: str) -> tuple[Ticket, list[Message], list[AuditEntry]]:
    async with sm() as s:
        ticket = (await s.execute(select(Ticket))).scalars().one()
        assert ticket.number == ticket_number
        messages = list((await s.execute(select(Message).where(Message.ticket_id == ticket.id))).scalars())
        audit = list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
    return ticket, messages, audit


async def test_summary_replies_and_notes_are_stored_sent_and_shown_masked(
    client: httpx.AsyncClient, server: Running, sessionmaker: Maker
) -> None:
    body = summary(
        "finance",
        conversation_id="conv-mask",
        description=f"{CARD_GLUED} ile yatırdım, iade {IBAN_DASHES} hesabına",
        transcript=[{"sender": "customer", "text": f"kart {CARD_DOTS} {CVV}", "timestamp": utcnow().isoformat()}],
    )
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("k-mask"))
    assert res.status_code == 201, res.text
    number = res.json()["ticket_number"]
    fin, acc, boss = [await login(client, name) for name in ("fin", "acc", "boss")]
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200

    reply = await client.post(
        f"/api/v1/tickets/{number}/reply", json={"text": f"Kartınız {CARD_DOTS} mi? {CVV} yazmayın"}, headers=fin
    )
    assert reply.status_code == 201
    assert_masked(reply.json()["text"])
    assert "**** **** **** 1111" in reply.json()["text"]  # readable: the last four digits stay
    assert [m.text for m in server.channel.sent] == [reply.json()["text"]]  # what the customer receives

    note = f"müşteri {IBAN_DASHES} ve {CARD_GLUED} yazdı"
    moved = await client.post(
        f"/api/v1/tickets/{number}/transfer", json={"department": "account", "note": note}, headers=fin
    )
    assert moved.status_code == 200
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=acc)).status_code == 200
    resolved = await client.post(f"/api/v1/tickets/{number}/resolve", json={"note": note}, headers=acc)
    assert resolved.status_code == 200

    for path in (f"/api/v1/tickets/{number}", f"/api/v1/tickets/{number}/export"):
        shown = await client.get(path, headers=boss)
        assert shown.status_code == 200
        assert_masked(shown.text)
        assert "TR33 **** **** 1326" in shown.json()["resolution_note"]
    ticket, messages, audit = await _rows(sessionmaker, number)
    assert ticket.resolution_note is not None and "TR33 **** **** 1326" in ticket.resolution_note
    assert_masked(ticket.resolution_note)
    assert_masked(json.dumps(ticket.summary, ensure_ascii=False))
    assert {m.sender for m in messages} >= {"agent", "customer"}
    for message in messages:
        assert_masked(message.text)
    noted = [a for a in audit if a.detail and "note" in a.detail]
    assert [a.action for a in noted] == ["transfer", "resolve"]
    for entry in noted:
        assert_masked(json.dumps(entry.detail, ensure_ascii=False))


async def test_relayed_customer_lines_are_stored_and_shown_masked(
    client: httpx.AsyncClient, broker: SqlBroker, sessionmaker: Maker, bus: InMemoryLiveBus, seed: Seed
) -> None:
    conversation = "conv-relay"
    ticket = await open_ticket(sessionmaker, conversation, claimed_by=seed.agents["fin"])
    # straight into the broker: the service does not rely on the bot's tracker store masking first
    await broker.put(user_event(conversation, f"{CARD_GLUED}, {CVV}", T0 + 5))
    await broker.put(user_event(conversation, f"iban {IBAN_DASHES} / {CARD_DOTS}", T0 + 6))
    await drain(source(broker.url, sessionmaker, bus))

    async with sessionmaker() as s:
        stored = list((await s.execute(select(ConversationEvent.text))).scalars())
        relayed = list(
            (
                await s.execute(
                    select(Message.text).where(Message.ticket_id == ticket.id, Message.sender == "customer")
                )
            ).scalars()
        )
    assert len(stored) == 2 and len(relayed) == 3  # the summary's line and the two relayed
    for text in stored + relayed:
        assert_masked(text)
    fin, boss = await login(client, "fin"), await login(client, "boss")
    view = await client.get(f"/api/v1/tickets/{ticket.number}", headers=fin)
    events = await client.get(f"/api/v1/conversations/{conversation}/events", headers=boss)
    assert view.status_code == events.status_code == 200
    assert_masked(view.text)
    assert_masked(events.text)
    assert "kartno**** **** **** 5559" in events.text


async def test_text_stored_before_masking_covered_it_is_shown_masked(
    client: httpx.AsyncClient, sessionmaker: Maker, seed: Seed
) -> None:
    """Rows a previous version wrote unmasked (notes, replies) are masked
    when they are shown."""
    ticket = await open_ticket(sessionmaker, "conv-old", claimed_by=seed.agents["fin"])
    now = utcnow()
    async with sessionmaker() as s, s.begin():
        s.add(Message(ticket_id=ticket.id, source_id="old-1", sender="agent", text=" ".join(WRITTEN), created_at=now))
        s.add(
            ConversationEvent(
                conversation_id="conv-old",
                event_key="old-event",
                kind="customer",
                text=" ".join(WRITTEN),
                timestamp=now - timedelta(seconds=1),
            )
        )
        stored = await s.get(Ticket, ticket.id)
        assert stored is not None
        stored.resolution_note = " ".join(WRITTEN)
    fin, boss = await login(client, "fin"), await login(client, "boss")
    view = await client.get(f"/api/v1/tickets/{ticket.number}", headers=fin)
    events = await client.get("/api/v1/conversations/conv-old/events", headers=boss)
    assert view.status_code == events.status_code == 200
    assert_masked(view.text)
    assert_masked(events.text)
    assert view.json()["resolution_note"].startswith("**** **** **** 1111")
