"""Ticket queries, including the one-statement claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Message, Ticket
from support_rules.tickets import ASSIGNED, CLOSED_STATUSES, HANDED_BACK, QUEUED, RESOLVED
from support_rules.verification import KIND_VERIFICATION

__all__ = [
    "insert_ticket",
    "get_ticket",
    "find_by_idempotency",
    "QUEUE_ORDER",
    "queued_in_order",
    "claims_since",
    "claim_next",
    "claim_ticket",
    "queued_silent_since",
    "list_assigned",
    "search_tickets",
    "transition",
    "queue_lengths",
    "claimed_since",
    "handled_since",
    "archive_closed_before",
    "purge_archived_before",
]


async def insert_ticket(*, session: AsyncSession, **values: Any) -> Ticket:
    ticket = Ticket(**values)
    session.add(ticket)
    await session.flush()
    return ticket


async def get_ticket(*, session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id, populate_existing=True)


async def find_by_idempotency(*, session: AsyncSession, conversation_id: str, key: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


# The one order a queue is served in: priority, then age, then id (a tie
# on the creation time is broken the same way everywhere). Claiming takes
# the first ticket in it; a ticket's queue position is its rank in it
# among the queued tickets of its department.
QUEUE_ORDER = (Ticket.priority_rank, Ticket.created_at, Ticket.id)


async def queued_in_order(
    *,
    session: AsyncSession,
    departments: Sequence[str] | None,
    ticket_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[Ticket, int, int]]:
    """Queued tickets in claim order, each with its position in its
    department (1 = next) and how many of the tickets up to that position
    (itself included) are verification requests. ``ticket_id`` keeps that
    ticket only (its position still counts every queued ticket of
    ``departments``)."""
    if departments is not None and not departments:
        return []
    position = func.row_number().over(partition_by=Ticket.department_id, order_by=QUEUE_ORDER)
    # QUEUE_ORDER ends with the id, so the running window has no ties
    verifications = func.sum(case((Ticket.kind == KIND_VERIFICATION, 1), else_=0)).over(
        partition_by=Ticket.department_id, order_by=QUEUE_ORDER
    )
    ranked = (
        select(Ticket.id.label("id"), position.label("position"), verifications.label("verifications"))
        .where(Ticket.status == QUEUED, _visible(departments))
        .subquery()
    )
    stmt = (
        select(Ticket, ranked.c.position, ranked.c.verifications)
        .join(ranked, Ticket.id == ranked.c.id)
        .order_by(*QUEUE_ORDER)
    )
    if ticket_id is not None:
        stmt = stmt.where(Ticket.id == ticket_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(ticket, int(pos), int(ver or 0)) for ticket, pos, ver in (await session.execute(stmt)).all()]


async def claims_since(*, session: AsyncSession, department_id: str, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.department_id == department_id, Ticket.assigned_at >= since)
    )
    return int(await session.scalar(stmt) or 0)


def _visible(departments: Sequence[str] | None) -> Any:
    return True if departments is None else Ticket.department_id.in_(list(departments))


async def claim_next(
    *, session: AsyncSession, agent_id: int, departments: Sequence[str] | None, now: datetime
) -> int | None:
    """Assign the first queued ticket (priority, then age) in one statement.

    PostgreSQL locks the chosen row with ``FOR UPDATE SKIP LOCKED`` so
    concurrent claimers pick different rows; SQLite runs the whole UPDATE
    under its single writer lock. The outer ``status = 'queued'`` re-check
    makes a lost race return nothing instead of stealing a ticket.
    """
    if departments is not None and not departments:
        return None
    candidate = (
        select(Ticket.id)
        .where(Ticket.status == QUEUED, Ticket.archived_at.is_(None), _visible(departments))
        .order_by(*QUEUE_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(Ticket)
        .where(Ticket.id == candidate, Ticket.status == QUEUED)
        .values(status=ASSIGNED, assignee_id=agent_id, assigned_at=now, updated_at=now)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_ticket(
    *, session: AsyncSession, ticket_id: int, agent_id: int, departments: Sequence[str] | None, now: datetime
) -> bool:
    stmt = (
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.status == QUEUED,
            Ticket.archived_at.is_(None),
            _visible(departments),
        )
        .values(status=ASSIGNED, assignee_id=agent_id, assigned_at=now, updated_at=now)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def transition(
    *,
    session: AsyncSession,
    ticket_id: int,
    from_status: str,
    assignee_id: int | None,
    values: dict[str, Any],
) -> bool:
    """Change a ticket only if it is still in ``from_status`` (and owned by
    ``assignee_id`` when given): a compare-and-set, safe under races."""
    conds = [Ticket.id == ticket_id, Ticket.status == from_status, Ticket.archived_at.is_(None)]
    if assignee_id is not None:
        conds.append(Ticket.assignee_id == assignee_id)
    stmt = (
        update(Ticket).where(*conds).values(**values).returning(Ticket.id).execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def queued_silent_since(*, session: AsyncSession, cutoff: datetime, limit: int = 500) -> list[Ticket]:
    """Queued tickets whose customer has written nothing since ``cutoff``
    and that were not queued (created or transferred) since then either."""
    last_line = (
        select(func.max(Message.created_at))
        .where(Message.ticket_id == Ticket.id, Message.sender == "customer")
        .scalar_subquery()
    )
    stmt = (
        select(Ticket)
        .where(Ticket.status == QUEUED, Ticket.updated_at < cutoff, or_(last_line.is_(None), last_line < cutoff))
        .order_by(Ticket.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def list_assigned(*, session: AsyncSession, agent_id: int) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.status == ASSIGNED, Ticket.assignee_id == agent_id).order_by(Ticket.assigned_at)
    return list((await session.execute(stmt)).scalars())


async def search_tickets(
    *,
    session: AsyncSession,
    departments: Sequence[str] | None,
    username: str | None = None,
    ticket_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = 100,
) -> list[Ticket]:
    conds: list[Any] = [_visible(departments)]
    if username:
        conds.append(Ticket.username == username)
    if ticket_id is not None:
        conds.append(Ticket.id == ticket_id)
    if created_from is not None:
        conds.append(Ticket.created_at >= created_from)
    if created_to is not None:
        conds.append(Ticket.created_at < created_to)
    stmt = select(Ticket).where(*conds).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def queue_lengths(*, session: AsyncSession) -> dict[str, int]:
    stmt = select(Ticket.department_id, func.count()).where(Ticket.status == QUEUED).group_by(Ticket.department_id)
    return {dept: int(n) for dept, n in (await session.execute(stmt)).all()}


async def claimed_since(*, session: AsyncSession, since: datetime) -> list[tuple[str, datetime, datetime]]:
    """(department, created, assigned) of tickets first claimed since ``since``."""
    stmt = select(Ticket.department_id, Ticket.created_at, Ticket.assigned_at).where(Ticket.assigned_at >= since)
    return [(d, c, a) for d, c, a in (await session.execute(stmt)).all()]


async def handled_since(*, session: AsyncSession, since: datetime) -> dict[str, int]:
    stmt = (
        select(Ticket.department_id, func.count())
        .where(Ticket.status.in_((RESOLVED, HANDED_BACK)), Ticket.closed_at >= since)
        .group_by(Ticket.department_id)
    )
    return {dept: int(n) for dept, n in (await session.execute(stmt)).all()}


async def archive_closed_before(*, session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    stmt = (
        update(Ticket)
        .where(Ticket.status.in_(CLOSED_STATUSES), Ticket.closed_at < cutoff, Ticket.archived_at.is_(None))
        .values(archived_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount or 0)


async def purge_archived_before(*, session: AsyncSession, cutoff: datetime) -> list[int]:
    """Delete archived tickets closed before ``cutoff`` with their messages;
    the ids deleted (their audit entries lose their details)."""
    doomed = list(
        (
            await session.execute(
                select(Ticket.id).where(Ticket.archived_at.is_not(None), Ticket.closed_at < cutoff).order_by(Ticket.id)
            )
        ).scalars()
    )
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        await session.execute(
            delete(Message).where(Message.ticket_id.in_(chunk)).execution_options(synchronize_session=False)
        )
        await session.execute(delete(Ticket).where(Ticket.id.in_(chunk)).execution_options(synchronize_session=False))
    return doomed
