"""Audit log queries.

Every string in an entry's detail (a resolve or transfer note, a reason,
an id a client chose) is masked (support_rules.masking) on its way in:
this is the one place audit entries are written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, false, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditEntry
from support_rules.masking import mask_secrets

__all__ = ["add_audit", "list_audit", "last_entry", "masked_detail", "scrub_details"]


def masked_detail(value: Any) -> Any:
    """``value`` with every string in it masked, at any depth."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: masked_detail(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked_detail(item) for item in value]
    return value


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
    entry = AuditEntry(
        actor=actor, agent_id=agent_id, action=action, ticket_id=ticket_id, detail=masked_detail(detail), at=at
    )
    session.add(entry)
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


async def last_entry(*, session: AsyncSession, ticket_id: int, action: str) -> AuditEntry | None:
    """The latest entry of ``action`` about the ticket."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.ticket_id == ticket_id, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


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
