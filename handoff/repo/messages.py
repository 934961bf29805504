"""Transcript queries. A message delivered twice (same source id) is stored once.

Every line is masked (support_rules.masking) on its way in, whoever wrote
it: this is the one place transcript text is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.db import named_values, run_compiled
from handoff.models import Message
from support_rules.masking import mask_secrets

__all__ = ["add_message", "get_message", "list_messages", "mark_delivered"]


async def add_message(
    *,
    session: AsyncSession,
    ticket_id: int,
    source_id: str,
    sender: str,
    text: str,
    created_at: datetime,
    agent_id: int | None = None,
    channel: str | None = None,
) -> bool:
    """Insert ``text`` masked unless ``(ticket_id, source_id)`` exists; True when inserted."""
    values = {
        "ticket_id": ticket_id,
        "source_id": source_id,
        "sender": sender,
        "text": mask_secrets(text),
        "agent_id": agent_id,
        "channel": channel,
        "created_at": created_at,
    }
    inserted = await run_compiled(session, _insert_message, values, Message.__table__.c.id)
    return inserted.scalar_one_or_none() is not None


def _insert_message(insert: Any) -> Any:
    table = Message.__table__
    return (
        insert(table)
        .values(named_values(table, leave_out=("id", "delivered_at")))
        .on_conflict_do_nothing(index_elements=["ticket_id", "source_id"])
        .returning(table.c.id)
    )


async def list_messages(*, session: AsyncSession, ticket_id: int) -> list[Message]:
    stmt = select(Message).where(Message.ticket_id == ticket_id).order_by(Message.created_at, Message.id)
    return list((await session.execute(stmt)).scalars())


async def get_message(*, session: AsyncSession, ticket_id: int, source_id: str) -> Message | None:
    stmt = select(Message).where(Message.ticket_id == ticket_id, Message.source_id == source_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_delivered(*, session: AsyncSession, message_id: int, at: datetime) -> None:
    stmt = update(Message).where(Message.id == message_id, Message.delivered_at.is_(None)).values(delivered_at=at)
    await session.execute(stmt)
