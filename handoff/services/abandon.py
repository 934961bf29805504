"""A customer who leaves the queue: the ticket is closed as ``abandoned``.

Two ways to leave, one rule: a queued ticket only (an assigned one is the
agent's to close), changed by compare-and-set so that two replicas or a
claim racing the customer never both win, written to the audit log, and
announced to consoles (``ticket.closed``) once the caller has committed.

- the customer cancels while waiting (the event consumer sees a short,
  confident ``cancel``: ``support_rules.tickets.is_clear_cancel``): ``abandon_queued(..., reason=CANCELLED)``, and once
  that is committed the bot takes the conversation back and tells the customer
  (``request_cancelled``, see ``handoff.broker.common.after_commit``);
- the customer has been silent longer than ``HANDOFF_ABANDON_AFTER_SECONDS``:
  ``abandon_silent`` (run by the queue notifier's periodic pass).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.live_bus import LiveUpdate
from handoff.models import Ticket
from handoff.repo import audit as audit_repo
from handoff.repo import tickets as tickets_repo
from support_rules.tickets import ABANDONED, QUEUED

__all__ = ["CANCELLED", "SILENT", "abandon_queued", "abandon_silent", "closed_event"]

# why a ticket was abandoned (audit detail and the live update)
CANCELLED = "cancelled"
SILENT = "silent"


def closed_event(ticket: Ticket, reason: str) -> LiveUpdate:
    return {
        "type": "ticket.closed",
        "ticket_number": ticket.number,
        "department": ticket.department_id,
        "assignee_id": ticket.assignee_id,
        "reason": reason,
    }


async def abandon_queued(*, session: AsyncSession, ticket: Ticket, reason: str, actor: str, now: datetime) -> bool:
    """Close a queued ticket as abandoned; False when it was no longer queued."""
    values = {"status": ABANDONED, "abandoned_at": now, "closed_at": now, "updated_at": now}
    if not await tickets_repo.transition(
        session=session, ticket_id=ticket.id, from_status=QUEUED, assignee_id=None, values=values
    ):
        return False
    await audit_repo.add_audit(
        session=session, actor=actor, action="abandon", ticket_id=ticket.id, detail={"reason": reason}, at=now
    )
    return True


async def abandon_silent(*, session: AsyncSession, silent_seconds: int, now: datetime) -> list[Ticket]:
    """Abandon the queued tickets whose customer wrote nothing for
    ``silent_seconds``; the tickets this call closed."""
    cutoff = now - timedelta(seconds=silent_seconds)
    closed = []
    for ticket in await tickets_repo.queued_silent_since(session=session, cutoff=cutoff):
        if await abandon_queued(session=session, ticket=ticket, reason=SILENT, actor="system", now=now):
            closed.append(ticket)
    return closed
