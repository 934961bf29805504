"""Customer record queries (the outcome of identity verification)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import CustomerRecord, Ticket

__all__ = ["get_customer", "get_customer_for_update", "add_customer", "purge_customers_before"]


async def get_customer(*, session: AsyncSession, username: str) -> CustomerRecord | None:
    return await session.get(CustomerRecord, username, populate_existing=True)


async def get_customer_for_update(*, session: AsyncSession, username: str) -> CustomerRecord | None:
    """The record, locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway), so two decisions at once apply in turn."""
    return await session.get(CustomerRecord, username, populate_existing=True, with_for_update=True)


async def add_customer(*, session: AsyncSession, record: CustomerRecord) -> CustomerRecord:
    session.add(record)
    await session.flush()
    return record


async def purge_customers_before(*, session: AsyncSession, cutoff: datetime) -> int:
    """Delete the records unchanged since ``cutoff`` whose username no
    ticket names any more (retention); how many."""
    named = select(Ticket.username).where(Ticket.username.is_not(None))
    stmt = delete(CustomerRecord).where(CustomerRecord.updated_at <= cutoff, CustomerRecord.username.not_in(named))
    result = cast(CursorResult[Any], await session.execute(stmt.execution_options(synchronize_session=False)))
    return result.rowcount or 0
