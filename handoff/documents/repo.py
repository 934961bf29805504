"""Document queries (no commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Document, Ticket

__all__ = ["get_document", "for_ticket", "link_to_ticket", "keys_to_purge", "delete_unlinked_before"]


async def get_document(*, session: AsyncSession, document_id: int) -> Document | None:
    return await session.get(Document, document_id, populate_existing=True)


async def for_ticket(*, session: AsyncSession, ticket_id: int) -> list[Document]:
    stmt = select(Document).where(Document.ticket_id == ticket_id).order_by(Document.id)
    return list((await session.execute(stmt)).scalars())


async def link_to_ticket(*, session: AsyncSession, conversation_id: str, ticket_id: int) -> int:
    """Documents the conversation sent before it had a ticket now belong to it."""
    stmt = (
        update(Document)
        .where(Document.conversation_id == conversation_id, Document.ticket_id.is_(None))
        .values(ticket_id=ticket_id)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0)


async def keys_to_purge(*, session: AsyncSession, cutoff: datetime) -> list[str]:
    """Storage keys of the documents retention removes at ``cutoff``: those of
    tickets it purges (archived, closed before it) and those that never
    reached a ticket and are older than it."""
    purged_ticket = select(Ticket.id).where(Ticket.archived_at.is_not(None), Ticket.closed_at < cutoff)
    stmt = select(Document.storage_key).where(
        or_(
            Document.ticket_id.in_(purged_ticket),
            Document.ticket_id.is_(None) & (Document.created_at < cutoff),
        )
    )
    return list((await session.execute(stmt)).scalars())


async def delete_unlinked_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """Documents of no ticket older than ``cutoff`` (a ticket's own go with it)."""
    stmt = (
        delete(Document)
        .where(Document.ticket_id.is_(None), Document.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0)
