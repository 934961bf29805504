"""Customer record queries (the outcome of identity verification)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import CustomerRecord

__all__ = ["get_customer", "get_customer_for_update", "add_customer"]


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
