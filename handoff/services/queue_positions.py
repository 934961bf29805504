"""Where queued tickets stand: position and expected wait, computed once.

The bot's handoff and status answers, the agent console's queue and the
queue notices all read ``queued_places``; the order is
``handoff.repo.tickets.QUEUE_ORDER`` (the one claiming uses), the position
a window over it (``queued_in_order``, which also counts the verification
requests at or ahead of each position) and the wait the rule in
``handoff.services.queue`` (per kind of request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Ticket
from handoff.repo import tickets as tickets_repo
from handoff.services.queue import expected_wait_by_kind
from support_rules.tickets import QUEUED
from support_rules.verification import KIND_SUPPORT, KIND_VERIFICATION

__all__ = ["QueueRules", "QueuePlace", "queued_places", "place_of"]


@dataclass(frozen=True)
class QueueRules:
    rate_window_seconds: int = 3600
    default_handle_seconds: int = 300  # a support request (HANDOFF_DEFAULT_HANDLE_SECONDS)
    verification_handle_seconds: int = 900  # HANDOFF_VERIFICATION_HANDLE_SECONDS

    def handle_seconds(self) -> dict[str, int]:
        """The assumed handling time of each kind of request."""
        return {KIND_SUPPORT: self.default_handle_seconds, KIND_VERIFICATION: self.verification_handle_seconds}


@dataclass(frozen=True)
class QueuePlace:
    ticket: Ticket
    position: int  # 1 = next in its department
    expected_wait_seconds: int


async def queued_places(
    *,
    session: AsyncSession,
    rules: QueueRules,
    now: datetime,
    departments: Sequence[str] | None = None,
    ticket_id: int | None = None,
    limit: int | None = None,
) -> list[QueuePlace]:
    """Queued tickets of ``departments`` (None: all) in claim order, with
    their position in their department and expected wait (seconds)."""
    ranked = await tickets_repo.queued_in_order(
        session=session, departments=departments, ticket_id=ticket_id, limit=limit
    )
    since = now - timedelta(seconds=rules.rate_window_seconds)
    claims: dict[str, int] = {}
    handle = rules.handle_seconds()
    places = []
    for ticket, position, verifications in ranked:
        if ticket.department_id not in claims:
            claims[ticket.department_id] = await tickets_repo.claims_since(
                session=session, department_id=ticket.department_id, since=since
            )
        counts = {KIND_SUPPORT: position - verifications, KIND_VERIFICATION: verifications}
        wait = expected_wait_by_kind(
            counts, claims[ticket.department_id], rules.rate_window_seconds, handle, KIND_SUPPORT
        )
        places.append(QueuePlace(ticket, position, wait))
    return places


async def place_of(*, session: AsyncSession, ticket: Ticket, rules: QueueRules, now: datetime) -> QueuePlace | None:
    """The place of one ticket; None when it is not queued."""
    if ticket.status != QUEUED:
        return None
    found = await queued_places(
        session=session, rules=rules, now=now, departments=[ticket.department_id], ticket_id=ticket.id
    )
    return found[0] if found else None
