"""Agent use cases on tickets.

Access rule: an agent sees only tickets of their departments, a supervisor
or admin sees all. A ticket outside an agent's departments answers exactly
like a ticket that does not exist (``ticket_not_found``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import BadRequest, Conflict, NotFound
from handoff.models import Agent, Message, Ticket, utcnow
from handoff.repo import agents as agents_repo
from handoff.repo import audit as audit_repo
from handoff.repo import messages as messages_repo
from handoff.repo import tickets as tickets_repo
from handoff.services.queue_positions import QueueRules, queued_places
from support_rules.conversations import conversation_ref
from support_rules.masking import mask_secrets
from support_rules.tickets import ASSIGNED, HANDED_BACK, QUEUED, RESOLVED, parse_ticket_number

__all__ = [
    "visible_departments",
    "get_visible_ticket",
    "queue_for",
    "claim_next",
    "claim",
    "read_ticket",
    "reply",
    "resolve",
    "hand_back",
    "transfer",
    "search",
    "ticket_json",
    "message_json",
    "masked_summary",
    "mark_delivered",
    "TicketView",
    "summary_for_agents",
]


def visible_departments(agent: Agent) -> list[str] | None:
    """None means every department."""
    return None if agent.sees_all else agent.department_ids


def _not_found() -> NotFound:
    return NotFound("no such ticket", code="ticket_not_found")


async def get_visible_ticket(*, session: AsyncSession, agent: Agent, number: str) -> Ticket:
    ticket_id = parse_ticket_number(number)
    ticket = None if ticket_id is None else await tickets_repo.get_ticket(session=session, ticket_id=ticket_id)
    if ticket is None:
        raise _not_found()
    depts = visible_departments(agent)
    if depts is not None and ticket.department_id not in depts:
        raise _not_found()
    return ticket


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "ticket_number": ticket.number,
        "status": ticket.status,
        "kind": ticket.kind,
        "department": ticket.department_id,
        "topic": ticket.summary.get("topic"),
        "username": ticket.username,
        "language": ticket.language,
        "channel": ticket.channel,
        "priority": {"level": ticket.priority, "reason": ticket.priority_reason},
        "assignee_id": ticket.assignee_id,
        "archived": ticket.archived_at is not None,
        "timestamps": {
            "created_at": iso(ticket.created_at),
            "updated_at": iso(ticket.updated_at),
            "assigned_at": iso(ticket.assigned_at),
            "resolved_at": iso(ticket.resolved_at),
            "handed_back_at": iso(ticket.handed_back_at),
            "abandoned_at": iso(ticket.abandoned_at),
            "archived_at": iso(ticket.archived_at),
        },
    }


def masked_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy with the customer's free text (description, transcript) masked."""
    stored = copy.deepcopy(summary)
    if "description" in stored:
        stored["description"] = mask_secrets(str(stored.get("description") or ""))
    for item in stored.get("transcript") or []:
        if isinstance(item, dict):
            item["text"] = mask_secrets(str(item.get("text") or ""))
    return stored


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender,
        "text": mask_secrets(message.text),  # masked when stored; again for rows stored before
        "agent_id": message.agent_id,
        "channel": message.channel,
        "created_at": message.created_at.isoformat(),
        "delivered": message.sender != "agent" or message.delivered_at is not None,
    }


async def _audit(
    session: AsyncSession, agent: Agent, action: str, ticket: Ticket | None, now: datetime, **detail: Any
) -> None:
    await audit_repo.add_audit(
        session=session,
        actor=agent.username,
        agent_id=agent.id,
        action=action,
        ticket_id=ticket.id if ticket else None,
        detail=detail or None,
        at=now,
    )


async def queue_for(
    *, session: AsyncSession, agent: Agent, rules: QueueRules, now: datetime | None = None
) -> dict[str, Any]:
    """Queued tickets of the agent's departments with position and expected
    wait, and the agent's own open tickets."""
    now = now or utcnow()
    places = await queued_places(
        session=session, rules=rules, now=now, departments=visible_departments(agent), limit=200
    )
    items = [
        {**ticket_json(p.ticket), "queue_position": p.position, "expected_wait_seconds": p.expected_wait_seconds}
        for p in places
    ]
    mine = await tickets_repo.list_assigned(session=session, agent_id=agent.id)
    # the listing shows usernames: who saw which tickets, by number only
    await _audit(
        session, agent, "list_queue", None, now, tickets=[p.ticket.number for p in places] + [t.number for t in mine]
    )
    return {QUEUED: items, "mine": [ticket_json(t) for t in mine]}


async def claim_next(*, session: AsyncSession, agent: Agent, now: datetime | None = None) -> Ticket | None:
    now = now or utcnow()
    ticket_id = await tickets_repo.claim_next(
        session=session, agent_id=agent.id, departments=visible_departments(agent), now=now
    )
    if ticket_id is None:
        return None
    ticket = await tickets_repo.get_ticket(session=session, ticket_id=ticket_id)
    assert ticket is not None
    await _audit(session, agent, "claim", ticket, now)
    return ticket


async def claim(*, session: AsyncSession, agent: Agent, number: str, now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    ticket = await get_visible_ticket(session=session, agent=agent, number=number)
    ok = await tickets_repo.claim_ticket(
        session=session, ticket_id=ticket.id, agent_id=agent.id, departments=visible_departments(agent), now=now
    )
    if not ok:
        raise Conflict("ticket is not waiting in the queue", code="not_queued")
    claimed = await tickets_repo.get_ticket(session=session, ticket_id=ticket.id)
    assert claimed is not None
    await _audit(session, agent, "claim", claimed, now)
    return claimed


def summary_for_agents(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as agents see it (console, export): the conversation's
    reference where the bot wrote its id. The id stays with the service,
    which needs it to reach the customer; shown, it would only help someone
    speak for the customer (support_rules.conversations)."""
    shown = dict(summary)
    if isinstance(shown.get("conversation_id"), str):
        shown["conversation_id"] = conversation_ref(shown["conversation_id"])
    return shown


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    messages: list[Message]

    def as_json(self) -> dict[str, Any]:
        return {
            **ticket_json(self.ticket),
            "summary": summary_for_agents(masked_summary(self.ticket.summary)),
            "resolution_note": mask_secrets(self.ticket.resolution_note or "") or None,
            "transcript": [message_json(m) for m in self.messages],
        }


async def read_ticket(
    *, session: AsyncSession, agent: Agent, number: str, action: str = "view", now: datetime | None = None
) -> TicketView:
    """Summary and transcript; every read is written to the audit log."""
    now = now or utcnow()
    ticket = await get_visible_ticket(session=session, agent=agent, number=number)
    messages = await messages_repo.list_messages(session=session, ticket_id=ticket.id)
    await _audit(session, agent, action, ticket, now)
    return TicketView(ticket, messages)


async def _owned(session: AsyncSession, agent: Agent, number: str) -> Ticket:
    ticket = await get_visible_ticket(session=session, agent=agent, number=number)
    if ticket.archived_at is not None:
        raise Conflict("ticket is archived and read-only", code="archived")
    if ticket.status != ASSIGNED or ticket.assignee_id != agent.id:
        raise Conflict("ticket is not assigned to you", code="not_assignee")
    return ticket


async def reply(
    *,
    session: AsyncSession,
    agent: Agent,
    number: str,
    text: str,
    source_id: str,
    channel: str | None = None,
    now: datetime | None = None,
) -> tuple[Ticket, Message, bool]:
    """Store an agent's reply; False when this ``source_id`` was stored before
    (a retried request), so the caller does not send it twice. ``channel``:
    the reply goes out other than by the chat (``email``: see
    handoff.services.mail_replies)."""
    now = now or utcnow()
    ticket = await _owned(session, agent, number)
    inserted = await messages_repo.add_message(
        session=session,
        ticket_id=ticket.id,
        source_id=source_id,
        sender="agent",
        text=text,
        agent_id=agent.id,
        created_at=now,
        channel=channel,
    )
    stored = await messages_repo.get_message(session=session, ticket_id=ticket.id, source_id=source_id)
    assert stored is not None
    if inserted:
        await _audit(session, agent, "reply", ticket, now)
    return ticket, stored, inserted


async def mark_delivered(*, session: AsyncSession, message: Message, now: datetime | None = None) -> None:
    """The customer's channel accepted an agent's reply."""
    await messages_repo.mark_delivered(session=session, message_id=message.id, at=now or utcnow())


async def _close(
    session: AsyncSession,
    agent: Agent,
    number: str,
    status: str,
    stamp: str,
    action: str,
    now: datetime,
    note: str | None,
) -> Ticket:
    ticket = await _owned(session, agent, number)
    values: dict[str, Any] = {"status": status, stamp: now, "closed_at": now, "updated_at": now}
    note = None if note is None else mask_secrets(note)
    if note is not None:
        values["resolution_note"] = note
    if not await tickets_repo.transition(
        session=session, ticket_id=ticket.id, from_status=ASSIGNED, assignee_id=agent.id, values=values
    ):
        raise Conflict("ticket is not assigned to you", code="not_assignee")
    await _audit(session, agent, action, ticket, now, **({"note": note} if note else {}))
    refreshed = await tickets_repo.get_ticket(session=session, ticket_id=ticket.id)
    assert refreshed is not None
    return refreshed


async def resolve(
    *, session: AsyncSession, agent: Agent, number: str, note: str | None, now: datetime | None = None
) -> Ticket:
    return await _close(session, agent, number, RESOLVED, "resolved_at", "resolve", now or utcnow(), note)


async def hand_back(*, session: AsyncSession, agent: Agent, number: str, now: datetime | None = None) -> Ticket:
    return await _close(session, agent, number, HANDED_BACK, "handed_back_at", "hand_back", now or utcnow(), None)


async def transfer(
    *, session: AsyncSession, agent: Agent, number: str, department: str, note: str | None, now: datetime | None = None
) -> tuple[Ticket, str]:
    """Put an owned ticket back in the queue of another department.

    It keeps its creation time, so it does not lose its place by age.
    """
    now = now or utcnow()
    ticket = await _owned(session, agent, number)
    known = {d.id for d in await agents_repo.list_departments(session=session)}
    if department not in known:
        raise BadRequest(f"unknown department: {department}", code="unknown_department")
    if department == ticket.department_id:
        raise Conflict("ticket is already in that department", code="same_department")
    previous = ticket.department_id
    values = {
        "status": QUEUED,
        "department_id": department,
        "assignee_id": None,
        "assigned_at": None,
        "updated_at": now,
    }
    if not await tickets_repo.transition(
        session=session, ticket_id=ticket.id, from_status=ASSIGNED, assignee_id=agent.id, values=values
    ):
        raise Conflict("ticket is not assigned to you", code="not_assignee")
    await _audit(session, agent, "transfer", ticket, now, to=department, **({"note": note} if note else {}))
    refreshed = await tickets_repo.get_ticket(session=session, ticket_id=ticket.id)
    assert refreshed is not None
    return refreshed, previous


def _day(value: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=timezone.utc)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)", code="invalid_date") from None


async def search(
    *,
    session: AsyncSession,
    agent: Agent,
    username: str | None = None,
    number: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[Ticket]:
    """History by customer username, ticket number or creation date (inclusive days, UTC)."""
    ticket_id = None
    if number:
        ticket_id = parse_ticket_number(number)
        if ticket_id is None:
            return []
    start = _day(date_from, "from") if date_from else None
    end = _day(date_to, "to") + timedelta(days=1) if date_to else None
    found = await tickets_repo.search_tickets(
        session=session,
        departments=visible_departments(agent),
        username=username or None,
        ticket_id=ticket_id,
        created_from=start,
        created_to=end,
    )
    await _audit_search(session, agent, found, username=username, number=number, date_from=date_from, date_to=date_to)
    return found


async def _audit_search(session: AsyncSession, agent: Agent, found: list[Ticket], **query: str | None) -> None:
    """Who searched for what and which tickets it showed (by number; the
    usernames are on the tickets). Retention forgets the details with the
    rest at the purge age."""
    asked = {name: value for name, value in query.items() if value}
    await _audit(session, agent, "search", None, utcnow(), query=asked, tickets=[t.number for t in found])
