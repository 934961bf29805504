"""handoff/services/consumer.py: parsing Rasa's events, and what the follower
stores of them (transcripts, customer messages to tickets, at-least-once)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import InMemoryLiveBus
from handoff.models import ConversationLanguage, Message
from handoff.services import tickets as tickets_svc
from handoff.services.consumer import MalformedEvent, event_key, message_source_id, parse_event
from handoff.services.handoffs import create_handoff
from handoff.services.queue_positions import QueueRules
from tests.handoff.conftest import Collected, Seed
from tests.handoff.factories import summary
from tests.handoff.helpers import _true, until
from tests.handoff.rasa_events import (
    T0,
    VALIDATOR,
    SqlBroker,
    bot_event,
    cursor,
    customer_line_update,
    drain,
    open_ticket,
    other_events,
    source,
    ticket_messages,
    transcript,
    user_event,
)


def test_event_key_is_canonical_and_distinct() -> None:
    a = user_event("c1", "merhaba", 1700000000.123456)
    shuffled = json.loads(json.dumps(dict(reversed(list(a.items())))))
    assert event_key(a) == event_key(shuffled) == parse_event(json.dumps(a).encode()).key
    b = {**a, "timestamp": 1700000000.123457}
    assert event_key(a) != event_key(b)
    assert len(event_key(a)) == 64 and message_source_id(event_key(a)) == f"rasa:{event_key(a)}"


def test_parse_event_kinds() -> None:
    customer = parse_event(json.dumps(user_event("c1", "param yok", 1700000000.5)))
    assert (customer.kind, customer.text, customer.channel, customer.intent, customer.confidence) == (
        "customer",
        "param yok",
        "socketio",
        "deposit_problem",
        0.91,
    )
    assert customer.timestamp.timestamp() == pytest.approx(1700000000.5)
    assert parse_event(bot_event("c1", "hi", 1.0)).kind == "bot"
    assert parse_event(bot_event("c1", "hi", 1.0, {"sender": "agent", "agent": "Fatma"})).kind == "agent"
    assert parse_event(bot_event("c1", "hi", 1.0, {"kind": "notice"})).kind == "notice"
    for event in other_events("c1", 1.0) + [bot_event("c1", "", 1.0), {**bot_event("c1", "x", 1.0), "text": None}]:
        assert parse_event(event).kind is None
    assert (
        parse_event({"event": "user", "text": "x", "timestamp": 1.0}, sender_id="from-column").conversation_id
        == "from-column"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe",
        "not json",
        "[1, 2]",
        "null",
        json.dumps({"event": "user", "text": "no sender"}),
        json.dumps({"sender_id": "c", "text": "no type"}),
        json.dumps({"sender_id": "c" * 256, "event": "user"}),
        json.dumps({"sender_id": "c", "event": "user", "timestamp": "yesterday"}),
        json.dumps({"sender_id": "c", "event": "user", "timestamp": 1e300}),
    ],
)
def test_parse_event_rejects_malformed(raw: Any) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(raw)


async def test_bot_only_conversation_is_kept(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, collected: Collected
) -> None:
    conv = "bot-only-1"
    await broker.put(other_events(conv, T0)[2])
    await broker.put(user_event(conv, "şifremi unuttum", T0 + 1, intent="faq_password", confidence=0.87))
    for event in other_events(conv, T0 + 2):
        await broker.put(event)
    await broker.put(bot_event(conv, "Şifre sıfırlama bağlantısı…", T0 + 3))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)

    lines = await transcript(sessionmaker, conv)
    assert [(line.kind, line.text) for line in lines] == [
        ("customer", "şifremi unuttum"),
        ("bot", "Şifre sıfırlama bağlantısı…"),
    ]
    assert (lines[0].intent, lines[0].confidence, lines[0].channel) == ("faq_password", pytest.approx(0.87), "socketio")
    assert lines[0].timestamp.timestamp() == pytest.approx(T0 + 1)
    assert await cursor(sessionmaker, broker.url) == 7 and src.consumed == 7
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0
    assert collected.events == []


def _faq_event(conversation_id: str, text: str, ts: float, faq: str) -> dict[str, Any]:
    event = user_event(conversation_id, text, ts, intent="faq", confidence=0.8)
    event["parse_data"]["response_selector"] = {
        "all_retrieval_intents": ["faq"],
        "faq": {"response": {"intent_response_key": faq, "utter_action": f"utter_{faq}", "confidence": 0.8}},
    }
    return event


def test_parse_event_reads_the_faq_the_response_and_the_language() -> None:
    customer = parse_event(_faq_event("c1", "şifremi unuttum", 1.0, "faq/password_reset"))
    assert (customer.intent, customer.faq) == ("faq", "faq/password_reset")
    other = parse_event(user_event("c1", "param yok", 1.0, intent="deposit_problem"))
    assert other.faq is None
    assert parse_event(bot_event("c1", "Şifre…", 2.0, {"utter_action": "utter_faq/password_reset"})).response == (
        "utter_faq/password_reset"
    )
    assert parse_event(bot_event("c1", "hi", 2.0, {"sender": "agent", "utter_action": "x"})).response is None
    language = parse_event({"sender_id": "c1", "event": "slot", "timestamp": 3.0, "name": "language", "value": "en"})
    assert (language.kind, language.language) == (None, "en")
    assert parse_event({"sender_id": "c1", "event": "slot", "name": "language", "value": "de"}).language is None
    assert parse_event({"sender_id": "c1", "event": "slot", "name": "topic", "value": "tr"}).language is None


async def test_the_faq_the_response_and_the_latest_language_are_kept(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    conv = "faq-lang-1"

    def slot(value: str, ts: float) -> dict[str, Any]:
        return {"sender_id": conv, "event": "slot", "timestamp": ts, "name": "language", "value": value}

    await broker.put(slot("tr", T0))
    await broker.put(_faq_event(conv, "şifremi unuttum", T0 + 1, "faq/password_reset"))
    await broker.put(bot_event(conv, "Giriş ekranındaki…", T0 + 2, {"utter_action": "utter_faq/password_reset"}))
    await broker.put(slot("en", T0 + 3))
    await broker.put(slot("tr", T0 + 0.5))  # an older event arriving late changes nothing
    await drain(source(broker.url, sessionmaker, bus))
    lines = await transcript(sessionmaker, conv)
    assert [(line.kind, line.faq, line.response) for line in lines] == [
        ("customer", "faq/password_reset", None),
        ("bot", None, "utter_faq/password_reset"),
    ]
    async with sessionmaker() as session:
        row = await session.get(ConversationLanguage, conv)
    assert row is not None and row.language == "en"


async def test_customer_message_reaches_the_assignee(
    broker: SqlBroker,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    conv = "handed-off-1"
    ticket = await open_ticket(sessionmaker, conv, claimed_by=seed.agents["fin"])
    await broker.put(user_event(conv, "Merhaba, param yansımadı", T0))  # in the summary already
    await broker.put(user_event(conv, "orada mısınız?", T0 + 5))
    await broker.put(bot_event(conv, "Merhaba, ben Fatma", T0 + 6, {"sender": "agent", "agent": "Fatma Finans"}))
    await broker.put(bot_event(conv, "Sıranız: 1", T0 + 7, {"kind": "notice"}))
    await broker.put(user_event("someone-else", "unrelated", T0 + 8))
    await drain(source(broker.url, sessionmaker, bus))

    texts = [(m.sender, m.text) for m in await ticket_messages(sessionmaker, ticket)]
    assert texts[-1] == ("customer", "orada mısınız?")
    assert texts.count(("customer", "Merhaba, param yansımadı")) == 1  # from the summary only
    assert not any(text == "Merhaba, ben Fatma" for _, text in texts)  # agent replies are stored by the reply endpoint
    assert [line.kind for line in await transcript(sessionmaker, conv)] == ["customer", "customer", "agent", "notice"]
    await until(lambda: _true(len(collected.events) >= 1))
    await asyncio.sleep(0.05)
    assert collected.events == [customer_line_update(ticket, seed.agents["fin"].id)]


async def test_queued_ticket_gets_messages_and_closed_one_does_not(
    broker: SqlBroker,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    queued = await open_ticket(sessionmaker, "queued-1")
    closed = await open_ticket(sessionmaker, "closed-1", claimed_by=seed.agents["fin"])
    async with sessionmaker() as session, session.begin():
        await tickets_svc.resolve(session=session, agent=seed.agents["fin"], number=closed.number, note=None)
    await broker.put(user_event("queued-1", "hâlâ bekliyorum", T0 + 10))
    await broker.put(user_event("closed-1", "teşekkürler", T0 + 10))
    await drain(source(broker.url, sessionmaker, bus))

    assert (await ticket_messages(sessionmaker, queued))[-1].text == "hâlâ bekliyorum"
    assert "teşekkürler" not in [m.text for m in await ticket_messages(sessionmaker, closed)]
    assert len(await transcript(sessionmaker, "closed-1")) == 1  # the transcript keeps it all the same
    await until(lambda: _true(len(collected.events) >= 1))
    assert collected.events[0]["ticket_number"] == queued.number and collected.events[0]["assignee_id"] is None


async def test_same_event_twice_is_stored_once(
    broker: SqlBroker,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    conv = "dup-1"
    ticket = await open_ticket(sessionmaker, conv)
    event = user_event(conv, "tamam", T0 + 1)
    await broker.put(event)
    await broker.put(event)  # at-least-once: published again
    await broker.put(user_event(conv, "tamam", T0 + 2))  # same text, another message
    src = source(broker.url, sessionmaker, bus)
    await drain(src)

    assert src.consumed == 3
    assert [line.text for line in await transcript(sessionmaker, conv)] == ["tamam", "tamam"]
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)].count("tamam") == 2
    await until(lambda: _true(len(collected.events) >= 2))
    await asyncio.sleep(0.05)
    assert len(collected.events) == 2


async def test_ticket_created_late_gets_what_the_customer_wrote_meanwhile(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, seed: Seed
) -> None:
    conv = "late-ticket-1"
    await broker.put(user_event(conv, "Merhaba, param yansımadı", T0))  # in the summary
    meanwhile = user_event(conv, "kimse yok mu?", T0 + 30)  # written while the ticket was on its way
    await broker.put(meanwhile)
    await broker.put(bot_event(conv, "bot line", T0 + 31))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    ticket = await open_ticket(sessionmaker, conv)

    texts = [(m.sender, m.text) for m in await ticket_messages(sessionmaker, ticket)]
    assert texts.count(("customer", "Merhaba, param yansımadı")) == 1
    assert texts[-1] == ("customer", "kimse yok mu?")
    assert ("bot", "bot line") not in texts
    await broker.put(meanwhile)  # published again after the ticket exists
    await drain(src)
    assert len(await ticket_messages(sessionmaker, ticket)) == len(texts)


async def test_line_arriving_while_its_ticket_is_created_reaches_the_ticket(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, seed: Seed
) -> None:
    """The ticket's transaction is open (its backfill found nothing) when the
    follower stores the line: one of the two must see the other's row."""
    conv = "race-1"
    data = summary("finance", conversation_id=conv)
    for line in data["transcript"]:
        line["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(T0))
    await broker.put(user_event(conv, "tam o anda", T0 + 5))
    async with sessionmaker() as session:
        async with session.begin():
            result = await create_handoff(
                session=session, summary=data, idempotency_key="k1", validator=VALIDATOR, rules=QueueRules()
            )
            step = asyncio.create_task(source(broker.url, sessionmaker, bus).step())
            await asyncio.sleep(0.3)
            if session.bind.dialect.name == "postgresql":
                assert not step.done()  # waits for the ticket's transaction (SQLite: one writer at a time anyway)
        assert await asyncio.wait_for(step, 10) == 1
    assert (await ticket_messages(sessionmaker, result.ticket))[-1].text == "tam o anda"
