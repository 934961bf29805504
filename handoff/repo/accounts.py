"""Queries of one customer account's tickets (the customer panel).

A ticket belongs to an account only through ``Ticket.account_username``,
set when the handoff came with the platform's verified token. Purged
tickets are deleted rows (handoff.services.retention): nothing of them is
found here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Document, Message, Ticket

__all__ = [
    "MAX_LISTED",
    "account_tickets",
    "account_ticket",
    "agent_names",
    "link_conversation",
    "last_customer_document_at",
]

# the most requests one listing shows (newest first)
MAX_LISTED = 200


async def account_tickets(*, session: AsyncSession, username: str) -> list[tuple[Ticket, datetime | None]]:
    """The account's tickets, newest first, each with its last transcript line's time."""
    last_line = select(func.max(Message.created_at)).where(Message.ticket_id == Ticket.id).scalar_subquery()
    stmt = (
        select(Ticket, last_line)
        .where(Ticket.account_username == username)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(MAX_LISTED)
    )
    return [(ticket, last) for ticket, last in (await session.execute(stmt)).all()]


async def account_ticket(*, session: AsyncSession, username: str, ticket_id: int) -> Ticket | None:
    """The ticket when it is the account's; None when it is missing or someone else's."""
    stmt = select(Ticket).where(Ticket.id == ticket_id, Ticket.account_username == username)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def agent_names(*, session: AsyncSession, agent_ids: set[int]) -> dict[int, str]:
    """Display names of the agents a customer sees (never their usernames)."""
    if not agent_ids:
        return {}
    stmt = select(Agent.id, Agent.display_name).where(Agent.id.in_(sorted(agent_ids)))
    return {agent_id: name for agent_id, name in (await session.execute(stmt)).all()}


async def link_conversation(*, session: AsyncSession, conversation_id: str, username: str) -> list[int]:
    """The conversation's tickets of no account become ``username``'s; a
    ticket already linked (to this account or another) is left as it is.
    The ids of the tickets linked now."""
    stmt = (
        update(Ticket)
        .where(Ticket.conversation_id == conversation_id, Ticket.account_username.is_(None))
        .values(account_username=username)
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    return sorted((await session.execute(stmt)).scalars())


async def last_customer_document_at(*, session: AsyncSession, ticket_id: int) -> datetime | None:
    """When the customer last attached a document to the ticket (any status:
    one held for a scan was received all the same)."""
    stmt = select(func.max(Document.created_at)).where(Document.ticket_id == ticket_id, Document.uploader == "customer")
    value = (await session.execute(stmt)).scalar_one_or_none()
    return value
