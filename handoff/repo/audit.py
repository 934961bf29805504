"""Audit log queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditEntry

__all__ = ["add_audit", "list_audit"]


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
