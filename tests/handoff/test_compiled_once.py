"""handoff.db.compiled_once: the dialects' ON CONFLICT inserts are compiled
once per dialect, and what they store is what the inserts stored before
(column types applied, conflicts ignored or updated as written), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.db import compiled_once
from handoff.models import ConversationEvent, ConversationLanguage, Message
from handoff.repo import conversations as conversations_repo
from handoff.repo import messages as messages_repo
from handoff.repo.conversations import _insert_event
from tests.handoff.conftest import Seed
from tests.handoff.rasa_events import open_ticket

AT = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=timezone.utc)


async def test_one_text_statement_per_dialect(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        first = compiled_once(session, _insert_event, ConversationEvent.__table__.c.id)
        again = compiled_once(session, _insert_event, ConversationEvent.__table__.c.id)
    assert again is first
    assert "ON CONFLICT (event_key) DO NOTHING" in str(first)
    assert ":timestamp" in str(first)  # named binds, rendered by the driver's dialect when run


async def test_a_line_is_stored_once_with_its_values_typed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    line = {
        "conversation_id": "conv-compiled",
        "kind": "customer",
        "timestamp": AT,
        "channel": "rest",
        "intent": "faq",
        "confidence": 0.75,
        "faq": "faq/login_problem",
    }
    async with sessionmaker() as session, session.begin():
        assert await conversations_repo.add_event(
            session=session, event_key="k1", text="my card is 4111 1111 1111 1111", **line
        )
        assert not await conversations_repo.add_event(session=session, event_key="k1", text="another text", **line)
        assert await conversations_repo.add_event(session=session, event_key="k2", text="second", **line)
    async with sessionmaker() as session:
        rows = (await session.execute(select(ConversationEvent).order_by(ConversationEvent.id))).scalars().all()
    assert [row.event_key for row in rows] == ["k1", "k2"]
    first = rows[0]
    assert first.timestamp == AT  # the column's UTC type, microseconds and zone kept
    assert first.created_at.tzinfo is not None
    assert "4111" not in first.text and first.text.startswith("my card is ")
    assert (first.channel, first.intent, first.confidence, first.faq) == ("rest", "faq", 0.75, "faq/login_problem")


async def test_the_latest_language_wins(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await conversations_repo.set_language(session=session, conversation_id="c-lang", language="tr", at=AT)
        await conversations_repo.set_language(
            session=session, conversation_id="c-lang", language="en", at=AT + timedelta(seconds=1)
        )
        # a redelivered older event changes nothing
        await conversations_repo.set_language(session=session, conversation_id="c-lang", language="tr", at=AT)
    async with sessionmaker() as session:
        kept = await session.get(ConversationLanguage, "c-lang")
    assert kept is not None and kept.language == "en"
    assert kept.updated_at == AT + timedelta(seconds=1)


async def test_a_ticket_message_is_stored_once(sessionmaker: async_sessionmaker[AsyncSession], seed: Seed) -> None:
    ticket = await open_ticket(sessionmaker, "c-message")
    async with sessionmaker() as session, session.begin():
        message = {"ticket_id": ticket.id, "source_id": "rasa:abc", "sender": "customer", "created_at": AT}
        assert await messages_repo.add_message(session=session, text="IBAN TR33 0006 1005 1978 6457 8413 26", **message)
        assert not await messages_repo.add_message(session=session, text="again", **message)
    async with sessionmaker() as session:
        stored = (
            (
                await session.execute(
                    select(Message).where(Message.ticket_id == ticket.id, Message.source_id == "rasa:abc")
                )
            )
            .scalars()
            .all()
        )
    assert len(stored) == 1
    assert stored[0].created_at == AT and stored[0].channel is None and stored[0].agent_id is None
    assert "1978" not in stored[0].text


async def test_the_database_gets_what_the_orm_would_store(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Raw column values, not read back through the types: a timestamp stored
    in another form would sort differently in the transcript's queries."""
    values = {"conversation_id": "c-raw", "kind": "bot", "text": "hello", "timestamp": AT, "confidence": 0.5}
    async with sessionmaker() as session, session.begin():
        await conversations_repo.add_event(session=session, event_key="raw-insert", **values)
        session.add(ConversationEvent(event_key="raw-orm", created_at=AT, **values))
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT event_key, timestamp, confidence FROM conversation_events WHERE conversation_id = 'c-raw'")
            )
        ).all()
    by_key = {row[0]: tuple(row[1:]) for row in rows}
    assert by_key["raw-insert"] == by_key["raw-orm"]


async def test_pending_changes_are_written_first(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """As before an ORM statement (autoflush): a line added to the session
    and not yet written is there for the insert's conflict check."""
    values = {"conversation_id": "c-pending", "kind": "bot", "text": "hello", "timestamp": AT}
    async with sessionmaker() as session, session.begin():
        session.add(ConversationEvent(event_key="pending", created_at=AT, **values))
        assert not await conversations_repo.add_event(session=session, event_key="pending", **values)
    async with sessionmaker() as session:
        keys = (await session.execute(select(ConversationEvent.event_key))).scalars().all()
    assert keys == ["pending"]


async def test_each_returning_has_its_statement(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        bare = compiled_once(session, _insert_event)
        returning = compiled_once(session, _insert_event, ConversationEvent.__table__.c.id)
    assert bare is not returning
    assert "RETURNING" in str(bare)  # the statement's own RETURNING; the columns only type the result
