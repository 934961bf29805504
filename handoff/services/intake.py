"""Requests that reach the desk without the bot: the request form and e-mail.

Both go through the triage the chat uses, by the same code
(support_rules.triage, .priority, .summary: the summary schema, priority
rules and masking are the bot's), and land in the same queue through
``create_handoff``. One request per problem: a customer (the account the
platform's token proves, or an e-mail address) who writes about a topic
that already has an open request joins that request instead of opening a
second one (``find_open_request``); the contact is recorded
(``TicketContact``) so its messages are marked with their channel and a
supervisor can split it out again (handoff.services.contacts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Unprocessable
from handoff.models import AuditEntry, Ticket, TicketContact, utcnow
from handoff.repo import messages as messages_repo
from handoff.repo import tickets as tickets_repo
from handoff.schemas import SummaryValidator
from handoff.services.handoffs import create_handoff, queue_info
from handoff.services.queue_positions import QueueRules
from support_rules.catalogue import Catalogue, load_catalogue
from support_rules.language import fallback_language
from support_rules.priority import PriorityRules
from support_rules.summary import TranscriptLine, TriageCase, build_summary
from support_rules.tickets import OPEN_STATUSES
from support_rules.triage import TriageRules

__all__ = [
    "CHANNEL_FORM",
    "CHANNEL_EMAIL",
    "CHANNEL_CHAT",
    "Contact",
    "IntakeRequest",
    "IntakeResult",
    "Triage",
    "find_open_request",
    "open_request",
    "join_request",
    "contact_for",
]

CHANNEL_FORM = "form"
CHANNEL_EMAIL = "email"
# the mark of a chat conversation's lines on a ticket that began elsewhere
CHANNEL_CHAT = "chat"


@dataclass(frozen=True)
class Triage:
    """What intake reads requests with: the editors' catalogue and the
    desk's settings (built once per process, see ``Triage.from_settings``)."""

    catalogue_path: Path
    validator: SummaryValidator
    queue_rules: QueueRules
    username_pattern: str
    max_age_days: int
    timezone: str
    verification_topics: tuple[str, ...] = ()

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.catalogue_path)

    @cached_property
    def priority_rules(self) -> PriorityRules:
        return PriorityRules.from_catalogue(self.catalogue)

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    def rules(self, today: date | None = None) -> TriageRules:
        return TriageRules(
            catalogue=self.catalogue,
            today=today or self.today(),
            max_age_days=self.max_age_days,
            username_pattern=self.username_pattern,
        )


@dataclass(frozen=True)
class Contact:
    """Who wrote, and on what: ``conversation_id`` is the contact's own id
    (``form:<posting key>``, ``email:<thread key>``, a chat's sender id); the
    same id twice is the same contact (a retried form, a redelivered mail)."""

    channel: str
    conversation_id: str
    email: str | None = None
    account_username: str | None = None  # proven by the platform's token


@dataclass(frozen=True)
class IntakeRequest:
    contact: Contact
    language: str
    description: str
    topic_id: str
    transaction_type_id: str | None = None
    transaction_date: date | None = None
    username: str | None = None
    age_method: str = "birth_date"  # birth_date | verified_token
    transcript: Sequence[TranscriptLine] = ()
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool
    joined: bool  # the contact joined an open request of the same customer and topic
    queue_position: int | None
    expected_wait_seconds: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_number": self.ticket.number,
            "status": self.ticket.status,
            "department": self.ticket.department_id,
            "queue_position": self.queue_position,
            "expected_wait_seconds": self.expected_wait_seconds,
            "joined": self.joined,
        }


def _normal_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


async def contact_for(*, session: AsyncSession, conversation_id: str) -> TicketContact | None:
    """The latest contact recorded under ``conversation_id`` (not split out)."""
    stmt = (
        select(TicketContact)
        .where(TicketContact.conversation_id == conversation_id, TicketContact.split_at.is_(None))
        .order_by(TicketContact.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_open_request(
    *,
    session: AsyncSession,
    topic_id: str,
    account_username: str | None,
    email: str | None,
    exclude_conversation: str | None = None,
) -> Ticket | None:
    """The customer's open request on ``topic_id``: the oldest one whose
    account is ``account_username`` or that an ``email`` contact reached.
    A typed username proves nothing and joins nothing."""
    email = _normal_email(email)
    if account_username is None and email is None:
        return None
    who = []
    if account_username is not None:
        who.append(Ticket.account_username == account_username)
    if email is not None:
        reached = select(TicketContact.ticket_id).where(TicketContact.email == email, TicketContact.split_at.is_(None))
        who.append(Ticket.id.in_(reached))
    stmt = select(Ticket).where(Ticket.topic_id == topic_id, Ticket.status.in_(OPEN_STATUSES), or_(*who))
    if exclude_conversation is not None:
        stmt = stmt.where(Ticket.conversation_id != exclude_conversation)
    return (await session.execute(stmt.order_by(Ticket.id).limit(1))).scalar_one_or_none()


async def _record_contact(session: AsyncSession, ticket: Ticket, contact: Contact, now: datetime) -> TicketContact:
    row = TicketContact(
        ticket_id=ticket.id,
        channel=contact.channel,
        conversation_id=contact.conversation_id,
        email=_normal_email(contact.email),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def join_request(
    *,
    session: AsyncSession,
    ticket: Ticket,
    contact: Contact,
    lines: Iterable[TranscriptLine],
    actor: str = "customer",
    now: datetime | None = None,
) -> TicketContact:
    """Add ``contact`` and what it wrote to ``ticket``; each line marked
    with the contact's channel. Idempotent per contact and line."""
    now = now or utcnow()
    existing = (
        await session.execute(
            select(TicketContact).where(
                TicketContact.ticket_id == ticket.id, TicketContact.conversation_id == contact.conversation_id
            )
        )
    ).scalar_one_or_none()
    row = existing or await _record_contact(session, ticket, contact, now)
    for i, line in enumerate(lines):
        await messages_repo.add_message(
            session=session,
            ticket_id=ticket.id,
            source_id=f"contact:{row.id}:{i}",
            sender=line.sender,
            text=line.text,
            created_at=line.timestamp,
            channel=contact.channel,
        )
    if existing is None:
        ticket.updated_at = now
        session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="join",
                ticket_id=ticket.id,
                detail={"channel": contact.channel},
            )
        )
        await session.flush()
    return row


def _summary(request: IntakeRequest, triage: Triage, today: date) -> dict[str, Any]:
    catalogue = triage.catalogue
    topic = catalogue.topic(request.topic_id)
    if topic is None:
        raise Unprocessable(f"unknown topic: {request.topic_id}", code="unknown_topic")
    kind = catalogue.transaction_type(request.transaction_type_id) if request.transaction_type_id else None
    if request.transaction_type_id and kind is None:
        raise Unprocessable(f"unknown transaction type: {request.transaction_type_id}", code="unknown_transaction_type")
    username = request.username or request.contact.account_username
    case = TriageCase(
        conversation_id=request.contact.conversation_id,
        channel=request.contact.channel,
        language=fallback_language(request.language),
        username=username,
        username_verified=username is not None and username == request.contact.account_username,
        topic=topic,
        transaction_type=kind,
        transaction_date=request.transaction_date,
        age_method=request.age_method,
        description=request.description,
        today=today,
        transcript=list(request.transcript)
        or [TranscriptLine(sender="customer", text=request.description, timestamp=request.created_at)],
        contact_email=_normal_email(request.contact.email),
        created_at=request.created_at,
    )
    return build_summary(case, priority_rules=triage.priority_rules)


async def open_request(
    *, session: AsyncSession, request: IntakeRequest, triage: Triage, now: datetime | None = None
) -> IntakeResult:
    """The customer's request: the one this contact already made (a form
    posted twice, a mail delivered twice), an open one of the same customer
    and topic that the contact joins, or a new ticket in the queue."""
    now = now or utcnow()
    contact = request.contact
    known = await contact_for(session=session, conversation_id=contact.conversation_id)
    if known is not None:
        ticket = await tickets_repo.get_ticket(session=session, ticket_id=known.ticket_id)
        assert ticket is not None  # contacts go with their ticket
        return await _result(session, ticket, triage, created=False, joined=ticket.conversation_id != contact.conversation_id, now=now)
    joined = await find_open_request(
        session=session,
        topic_id=request.topic_id,
        account_username=contact.account_username,
        email=contact.email,
    )
    if joined is not None:
        lines = list(request.transcript) or [
            TranscriptLine(sender="customer", text=request.description, timestamp=request.created_at)
        ]
        await join_request(session=session, ticket=joined, contact=contact, lines=lines, now=now)
        return await _result(session, joined, triage, created=False, joined=True, now=now)
    summary = _summary(request, triage, triage.today())
    result = await create_handoff(
        session=session,
        summary=summary,
        idempotency_key=contact.channel,
        validator=triage.validator,
        rules=triage.queue_rules,
        verification_topics=triage.verification_topics,
        now=now,
    )
    if result.created:
        await _record_contact(session, result.ticket, contact, now)
    return IntakeResult(result.ticket, result.created, False, result.queue_position, result.expected_wait_seconds)


async def _result(
    session: AsyncSession, ticket: Ticket, triage: Triage, *, created: bool, joined: bool, now: datetime
) -> IntakeResult:
    position, wait = await queue_info(session=session, ticket=ticket, rules=triage.queue_rules, now=now)
    return IntakeResult(ticket, created, joined, position, wait)
