"""Queries of the outbound mail queue (handoff.mail.worker).

A worker leases a due row by moving its ``next_attempt_at`` past the time
a send can take, in the statement that finds it (PostgreSQL: ``FOR UPDATE
SKIP LOCKED``, so concurrent workers pass each other's rows; SQLite has
one writer). That instant is the lease: only the worker that set it marks
the row sent or failed, and a worker that died leaves a row that falls due
again when its lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import MailMessage, OutboundMail

__all__ = ["claim_due", "mark_sent", "mark_failed", "thread_ids"]


async def claim_due(
    *, session: AsyncSession, now: datetime, lease_until: datetime, limit: int = 1
) -> list[OutboundMail]:
    """Pending rows due at ``now``, oldest first, leased until ``lease_until``."""
    due = (
        select(OutboundMail.id)
        .where(OutboundMail.status == "pending", OutboundMail.next_attempt_at <= now)
        .order_by(OutboundMail.next_attempt_at, OutboundMail.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(OutboundMail)
        .where(OutboundMail.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until)
        .returning(OutboundMail.id)
        .execution_options(synchronize_session=False)
    )
    ids = list((await session.execute(stmt)).scalars())
    if not ids:
        return []
    rows = await session.execute(
        select(OutboundMail)
        .where(OutboundMail.id.in_(ids))
        .order_by(OutboundMail.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def _leased(session: AsyncSession, mail_id: int, lease_until: datetime, values: dict[str, Any]) -> bool:
    stmt = (
        update(OutboundMail)
        .where(
            OutboundMail.id == mail_id,
            OutboundMail.status == "pending",
            OutboundMail.next_attempt_at == lease_until,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return result.rowcount == 1


async def mark_sent(*, session: AsyncSession, mail_id: int, lease_until: datetime, at: datetime) -> bool:
    """False when the lease was lost (the row is no longer this worker's)."""
    return await _leased(session, mail_id, lease_until, {"status": "sent", "sent_at": at, "last_error": None})


async def mark_failed(
    *, session: AsyncSession, mail_id: int, lease_until: datetime, retry_at: datetime, error: str
) -> bool:
    return await _leased(
        session,
        mail_id,
        lease_until,
        {"attempts": OutboundMail.attempts + 1, "next_attempt_at": retry_at, "last_error": error[:500]},
    )


async def thread_ids(*, session: AsyncSession, ticket_id: int) -> Sequence[str]:
    """The Message-IDs of a ticket's mail, in and out, oldest first."""
    stmt = (
        select(MailMessage.message_id)
        .where(MailMessage.ticket_id == ticket_id)
        .order_by(MailMessage.created_at, MailMessage.id)
    )
    return list((await session.execute(stmt)).scalars())
