"""Audit log queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, false, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditEntry

__all__ = ["add_audit", "list_audit", "scrub_details"]


async def add_audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    at: datetime,
    agent_id: int | None = None,
    ticket_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(AuditEntry(actor=actor, agent_id=agent_id, action=action, ticket_id=ticket_id, detail=detail, at=at))
    await session.flush()


async def list_audit(
    *, session: AsyncSession, ticket_id: int | None = None, action: str | None = None, limit: int = 500
) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if ticket_id is not None:
        stmt = stmt.where(AuditEntry.ticket_id == ticket_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list((await session.execute(stmt.limit(limit))).scalars())


async def scrub_details(*, session: AsyncSession, before: datetime, ticket_ids: Sequence[int] = ()) -> int:
    """Forget the details (notes, queries, conversation ids) of entries older
    than ``before`` or about the tickets ``ticket_ids``; who did what when
    stays. The number of entries changed."""
    about = AuditEntry.ticket_id.in_(list(ticket_ids)) if ticket_ids else false()
    stmt = (
        update(AuditEntry)
        .where(AuditEntry.detail.is_not(None), or_(AuditEntry.at < before, about))
        .values(detail=null())
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], await session.execute(stmt)).rowcount or 0)
