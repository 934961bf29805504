"""Conversation transcripts (from Rasa's event broker) and consumer cursors.

An event is stored once per key: a redelivered event inserts nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.db import insert_for, named_values, run_compiled
from handoff.models import (
    BrokerCursor,
    ConversationEvent,
    ConversationLanguage,
    ModelVersion,
    ReviewDecision,
    Ticket,
    utcnow,
)
from support_rules.masking import mask_secrets
from support_rules.tickets import OPEN_STATUSES

__all__ = [
    "add_event",
    "set_language",
    "list_events",
    "customer_events_after",
    "latest_open_ticket",
    "lock_conversation",
    "lock_cursor",
    "set_cursor",
    "purge_conversations_before",
]


async def add_event(
    *,
    session: AsyncSession,
    conversation_id: str,
    event_key: str,
    kind: str,
    text: str,
    timestamp: datetime,
    channel: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    faq: str | None = None,
    response: str | None = None,
) -> bool:
    """Insert unless ``event_key`` exists; True when inserted."""
    values = {
        "conversation_id": conversation_id,
        "event_key": event_key,
        "kind": kind,
        "text": mask_secrets(text),
        "channel": channel,
        "intent": intent,
        "confidence": confidence,
        "faq": faq,
        "response": response,
        "timestamp": timestamp,
        "created_at": utcnow(),
    }
    inserted = await run_compiled(session, _insert_event, values, ConversationEvent.__table__.c.id)
    return inserted.scalar_one_or_none() is not None


def _insert_event(insert: Any) -> Any:
    table = ConversationEvent.__table__
    return (
        insert(table)
        .values(named_values(table))
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(table.c.id)
    )


async def set_language(*, session: AsyncSession, conversation_id: str, language: str, at: datetime) -> None:
    """Keep the conversation's language: the latest ``language`` slot event
    wins (a redelivered older one changes nothing)."""
    values = {"conversation_id": conversation_id, "language": language, "updated_at": at}
    await run_compiled(session, _upsert_language, values)


def _upsert_language(insert: Any) -> Any:
    table = ConversationLanguage.__table__
    stmt = insert(table).values(named_values(table))
    return stmt.on_conflict_do_update(
        index_elements=["conversation_id"],
        set_={"language": stmt.excluded.language, "updated_at": stmt.excluded.updated_at},
        where=table.c.updated_at <= stmt.excluded.updated_at,
    )


async def list_events(
    *, session: AsyncSession, conversation_id: str, after_id: int = 0, limit: int = 100
) -> list[ConversationEvent]:
    """A page of the transcript in arrival order (ids grow as events arrive)."""
    stmt = (
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id, ConversationEvent.id > after_id)
        .order_by(ConversationEvent.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def customer_events_after(
    *, session: AsyncSession, conversation_id: str, after: datetime
) -> list[ConversationEvent]:
    stmt = (
        select(ConversationEvent)
        .where(
            ConversationEvent.conversation_id == conversation_id,
            ConversationEvent.kind == "customer",
            ConversationEvent.timestamp > after,
        )
        .order_by(ConversationEvent.timestamp, ConversationEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


async def latest_open_ticket(*, session: AsyncSession, conversation_id: str) -> Ticket | None:
    return (await session.execute(_LATEST_OPEN_TICKET, {"conversation_id": conversation_id})).scalar_one_or_none()


# the statements run for every line a broker follower stores, made once
# (building one anew for every call was a tenth of the follower's time,
# bench/follower_replay.py)
_LATEST_OPEN_TICKET = (
    select(Ticket)
    .where(Ticket.conversation_id == bindparam("conversation_id"), Ticket.status.in_(OPEN_STATUSES))
    .order_by(Ticket.id.desc())
    .limit(1)
)
_CURSORS = cast(Table, BrokerCursor.__table__)
_TOUCH_CURSOR = (
    update(_CURSORS)
    .where(_CURSORS.c.name == bindparam("cursor"))
    .values(updated_at=bindparam("now"))
    .returning(_CURSORS.c.position)
)
_MOVE_CURSOR = (
    update(_CURSORS)
    .where(_CURSORS.c.name == bindparam("cursor"))
    .values(position=bindparam("to"), updated_at=bindparam("now"))
)


_LOCK_CLASS = 0x48414E44  # "HAND": our advisory locks, apart from anyone else's


async def lock_conversation(*, session: AsyncSession, conversation_id: str) -> None:
    """Serialise, until the transaction ends, the follower's "is there an open
    ticket?" and a new ticket's "what did the customer write meanwhile?" for
    one conversation, so a line arriving as the ticket is created reaches it
    (PostgreSQL advisory lock; SQLite has a single writer already)."""
    if session.bind.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(conversation_id.encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, key)))


async def lock_cursor(*, session: AsyncSession, name: str) -> int:
    """The cursor's position, locked until the transaction ends. A missing
    cursor is created at 0. A write comes first on purpose: on SQLite it
    opens the transaction (and takes the single writer lock) before any
    savepoint, so the batch and its cursor commit together; on PostgreSQL
    the updated (or ``FOR UPDATE``) row makes a second replica wait for the
    first's commit. An existing cursor costs one statement (its
    ``updated_at`` is written again by ``set_cursor``, or stays this
    batch's start when the batch moved nothing)."""
    touched = await session.execute(_TOUCH_CURSOR, {"cursor": name, "now": utcnow()})
    position = touched.scalar_one_or_none()
    if position is not None:
        return int(position)
    await session.execute(
        insert_for(session)(BrokerCursor)
        .values(name=name, position=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    stmt = select(BrokerCursor.position).where(BrokerCursor.name == name).with_for_update()
    return int((await session.execute(stmt)).scalar_one())


async def set_cursor(*, session: AsyncSession, name: str, position: int) -> None:
    await session.execute(_MOVE_CURSOR, {"cursor": name, "to": position, "now": utcnow()})


async def purge_conversations_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """Delete the transcripts of conversations whose last line is older than
    ``cutoff`` and that no ticket refers to any more (a ticket's own
    conversation goes with it, when the ticket is purged), with their
    languages; and the editors' decisions older than ``cutoff`` (they keep
    the masked line). The number of lines deleted."""
    stale = (
        select(ConversationEvent.conversation_id)
        .group_by(ConversationEvent.conversation_id)
        .having(func.max(ConversationEvent.timestamp) < cutoff)
    )
    ticketed = select(Ticket.conversation_id)
    stmt = (
        delete(ConversationEvent)
        .where(ConversationEvent.conversation_id.in_(stale), ConversationEvent.conversation_id.not_in(ticketed))
        .execution_options(synchronize_session=False)
    )
    lines = int(cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0)
    # what the editors' loop kept of those conversations goes with them
    await session.execute(
        delete(ConversationLanguage)
        .where(ConversationLanguage.conversation_id.not_in(select(ConversationEvent.conversation_id)))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(ReviewDecision).where(ReviewDecision.decided_at < cutoff).execution_options(synchronize_session=False)
    )
    # a trained model's list of the reviewed lines it understands holds their text
    await session.execute(
        update(ModelVersion)
        .where(ModelVersion.started_at < cutoff, ModelVersion.understood.is_not(None))
        .values(understood=None)
        .execution_options(synchronize_session=False)
    )
    return lines
