"""Use cases for the bot: create a handoff, ticket status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.db import hold_transaction
from handoff.documents.service import link_conversation_documents
from handoff.errors import NotFound, Unprocessable
from handoff.models import Ticket, utcnow
from handoff.repo import agents as agents_repo
from handoff.repo import messages as messages_repo
from handoff.repo import tickets as tickets_repo
from handoff.schemas import SummaryValidator
from handoff.services import contacts
from handoff.services.consumer import backfill_ticket
from handoff.services.queue_positions import QueueRules, place_of
from handoff.services.tickets import masked_summary
from handoff.services.verification import note_verification_request
from support_rules.identity import USERNAME_VERIFIED
from support_rules.summary import TranscriptLine
from support_rules.tickets import PRIORITY_RANK, QUEUED, format_ticket_number, parse_ticket_number
from support_rules.verification import KIND_VERIFICATION, kind_for_topic

__all__ = [
    "HandoffResult",
    "account_username",
    "contact_address",
    "matching_email",
    "create_handoff",
    "ticket_status",
    "customer_ticket_status",
    "queue_info",
]


@dataclass(frozen=True)
class HandoffResult:
    ticket: Ticket
    created: bool
    queue_position: int | None
    expected_wait_seconds: int | None
    # the conversation joined the customer's open request on the same topic
    # (handoff.services.contacts) instead of opening a second one
    joined: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_number": self.ticket.number,
            "status": self.ticket.status,
            "department": self.ticket.department_id,
            "queue_position": self.queue_position,
            "expected_wait_seconds": self.expected_wait_seconds,
            "joined": self.joined,
        }


async def queue_info(
    *, session: AsyncSession, ticket: Ticket, rules: QueueRules, now: datetime | None = None
) -> tuple[int | None, int | None]:
    """Position and expected wait (None, None when not queued)."""
    place = await place_of(session=session, ticket=ticket, rules=rules, now=now or utcnow())
    return (None, None) if place is None else (place.position, place.expected_wait_seconds)


def account_username(summary: dict[str, Any]) -> str | None:
    """The account a handoff belongs to: its username only when the
    platform's token proved it; a username typed in an anonymous chat
    links the ticket to nobody."""
    username = summary.get("username")
    if summary.get("username_source") == USERNAME_VERIFIED and isinstance(username, str) and username:
        return username
    return None


def _parse_ts(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Unprocessable("timestamp must be ISO 8601", code="invalid_timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=default.tzinfo)


async def create_handoff(
    *,
    session: AsyncSession,
    summary: Any,
    idempotency_key: str,
    validator: SummaryValidator,
    rules: QueueRules,
    verification_topics: Iterable[str] = (),
    now: datetime | None = None,
) -> HandoffResult:
    """Queue a ticket for the summary, or return the one already created for
    the same conversation and idempotency key. One request per problem: a
    customer known by account or e-mail who already has an open request on
    the summary's topic joins it (``joined``). A summary on one of
    ``verification_topics`` is a verification request (its kind, and its
    customer's record pending: handoff.services.verification)."""
    validator.validate(summary)
    now = now or utcnow()
    conversation_id = summary["conversation_id"]
    existing = await tickets_repo.find_by_idempotency(
        session=session, conversation_id=conversation_id, key=idempotency_key
    )
    if existing is None:
        joined = await _join_open_request(session, summary, now)
        if joined is not None:
            position, wait = await queue_info(session=session, ticket=joined, rules=rules, now=now)
            return HandoffResult(joined, False, position, wait, joined=True)
        departments = {d.id for d in await agents_repo.list_departments(session=session)}
        if summary["department"] not in departments:
            raise Unprocessable(f"unknown department: {summary['department']}", code="unknown_department")
        stored = masked_summary(summary)  # the bot masks before posting; the service does not rely on it
        await hold_transaction(session)  # the savepoint below must not commit on its own (SQLite)
        try:
            async with session.begin_nested():
                ticket = await tickets_repo.insert_ticket(
                    session=session,
                    conversation_id=conversation_id,
                    idempotency_key=idempotency_key,
                    channel=summary["channel"],
                    language=summary["language"],
                    username=summary.get("username"),
                    account_username=account_username(summary),
                    department_id=summary["department"],
                    topic_id=summary["topic"]["id"],
                    kind=kind_for_topic(summary["topic"]["id"], verification_topics),
                    priority=summary["priority"]["level"],
                    priority_rank=PRIORITY_RANK[summary["priority"]["level"]],
                    priority_reason=summary["priority"]["reason"],
                    summary=stored,
                    status=QUEUED,
                    created_at=now,
                    updated_at=now,
                )
                ticket.summary = {**stored, "ticket_number": format_ticket_number(ticket.id)}
                for i, item in enumerate(stored["transcript"]):
                    await messages_repo.add_message(
                        session=session,
                        ticket_id=ticket.id,
                        source_id=f"summary:{i}",
                        sender=item["sender"],
                        text=item["text"],
                        created_at=_parse_ts(item["timestamp"], now),
                    )
                await contacts.record_contact(
                    session=session,
                    ticket=ticket,
                    channel=ticket.channel,
                    conversation_id=conversation_id,
                    email=contact_address(summary),
                    now=now,
                )
                if ticket.kind == KIND_VERIFICATION:
                    await note_verification_request(session=session, ticket=ticket, now=now)
                # what the customer wrote after the summary was built (the broker got it first)
                await backfill_ticket(session=session, ticket=ticket)
                # documents the web chat sent before the ticket existed
                await link_conversation_documents(session=session, ticket=ticket)
                await session.flush()
            created = True
        except IntegrityError:
            # a concurrent request with the same key won the insert
            existing = await tickets_repo.find_by_idempotency(
                session=session, conversation_id=conversation_id, key=idempotency_key
            )
            if existing is None:
                raise
            ticket, created = existing, False
    else:
        ticket, created = existing, False
    position, wait = await queue_info(session=session, ticket=ticket, rules=rules, now=now)
    return HandoffResult(ticket, created, position, wait)


def contact_address(summary: dict[str, Any]) -> str | None:
    """The address a form or mail contact is answered at, kept on the
    contact (a later mail from it finds the request); a chat's pre-chat
    address is a claim typed into the chat and is not kept there."""
    email = summary.get("contact_email")
    return email if summary.get("channel") in contacts.MAIL_CHANNELS and isinstance(email, str) else None


def matching_email(summary: dict[str, Any]) -> str | None:
    """The address that joins a request by itself: a mail's sender, whose
    answers (the joined request's number first) go to that address. Typed
    addresses join nothing: the form's, which would tell whoever typed it
    the number and queue of another customer's request, and the chat's,
    which would show them its answers in the chat; those join by the proven
    account only."""
    return contact_address(summary) if summary.get("channel") == contacts.CHANNEL_EMAIL else None


async def _join_open_request(session: AsyncSession, summary: dict[str, Any], now: datetime) -> Ticket | None:
    """The open request this conversation joins (or joined before: a retry)."""
    conversation_id = summary["conversation_id"]
    known = await contacts.ticket_of_contact(session=session, conversation_id=conversation_id)
    if known is not None and known[0].topic_id == summary["topic"]["id"]:
        return known[0]  # a retry, or the same problem again; another problem is a request of its own
    ticket = await contacts.find_open_request(
        session=session,
        topic_id=summary["topic"]["id"],
        account_username=account_username(summary),
        email=matching_email(summary),
        exclude_conversation=conversation_id,
    )
    if ticket is None:
        return None
    channel = summary["channel"]
    lines = [
        TranscriptLine(sender=item["sender"], text=item["text"], timestamp=_parse_ts(item["timestamp"], now))
        for item in masked_summary(summary)["transcript"]
    ]
    await contacts.join_request(
        session=session,
        ticket=ticket,
        channel=channel if channel in contacts.MAIL_CHANNELS else contacts.CHANNEL_CHAT,
        conversation_id=conversation_id,
        email=contact_address(summary),
        lines=lines,
        now=now,
    )
    return ticket


async def _ticket_by_number(session: AsyncSession, number: str) -> Ticket:
    ticket_id = parse_ticket_number(number)
    ticket = None if ticket_id is None else await tickets_repo.get_ticket(session=session, ticket_id=ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", code="ticket_not_found")
    return ticket


async def ticket_status(
    *, session: AsyncSession, number: str, rules: QueueRules, now: datetime | None = None
) -> dict[str, Any]:
    """What a customer may see: no summary, no transcript, no agent."""
    return await _customer_view(session, await _ticket_by_number(session, number), rules, now)


def _belongs_to(ticket: Ticket, conversation_id: str, verified_username: str | None) -> bool:
    """The asking conversation's own ticket, or one of the account the
    token verifies (``account_username``; a typed username proves nothing)."""
    if ticket.conversation_id == conversation_id:
        return True
    return verified_username is not None and ticket.account_username == verified_username


async def customer_ticket_status(
    *,
    session: AsyncSession,
    number: str,
    conversation_id: str,
    verified_username: str | None,
    rules: QueueRules,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``ticket_status`` for the customer asking. Another customer's ticket
    answers exactly like a missing one: ticket numbers are sequential, so
    anything else would tell whether a number exists, and its status."""
    ticket = await _ticket_by_number(session, number)
    joined = await contacts.ticket_of_contact(session=session, conversation_id=conversation_id, open_only=False)
    if not _belongs_to(ticket, conversation_id, verified_username) and (joined is None or joined[0].id != ticket.id):
        # a conversation that joined this request (handoff.services.contacts) asks about its own request too
        raise NotFound("no such ticket", code="ticket_not_found")
    return await _customer_view(session, ticket, rules, now)


async def _customer_view(
    session: AsyncSession, ticket: Ticket, rules: QueueRules, now: datetime | None
) -> dict[str, Any]:
    position, wait = await queue_info(session=session, ticket=ticket, rules=rules, now=now)
    return {
        "ticket_number": ticket.number,
        "status": ticket.status,
        "department": ticket.department_id,
        "queue_position": position,
        "expected_wait_seconds": wait,
        "updated_at": ticket.updated_at.isoformat(),
    }
