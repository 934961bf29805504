"""Which ticket or waiting draft an inbound mail answers, and whether its
sender may write there.

A mail threads by its In-Reply-To / References (a Message-ID the desk sent
or received, ``mail_messages``) or by the request number in its subject
(``[T-000123]``). Threading is not permission: only an address the ticket
was reached from (``ticket_contacts.email``) or that the desk mailed about
it may add to it, so a stranger who quotes someone's number opens a
request of their own instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.mail.parse import InboundMail
from handoff.models import MailDraft, MailMessage, OutboundMail, Ticket, TicketContact
from support_rules.tickets import OPEN_STATUSES, parse_ticket_number

__all__ = ["Thread", "find_thread", "thread_key", "seen_inbound", "normal_subject", "DRAFT_WAITING"]

DRAFT_WAITING = "waiting"
_BRACKETED = re.compile(r"\[\s*([^\[\]]{1,20}?)\s*\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|ynt|ilt|yan[ıi]t|i̇lt|aw|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Thread:
    """What a mail answers: an open ticket, or a waiting draft (one of them)."""

    ticket: Ticket | None = None
    draft: MailDraft | None = None


def thread_key(message_id: str) -> str:
    """A thread's stable key (``email:<key>``): from its first Message-ID."""
    # exact, like the Message-ID uniqueness it stands beside: two ids that differ in case are two mails
    return hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest()[:32]


def normal_subject(subject: str) -> str:
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).casefold()


async def seen_inbound(*, session: AsyncSession, message_id: str) -> bool:
    stmt = select(MailMessage.id).where(MailMessage.message_id == message_id)
    return (await session.execute(stmt)).first() is not None


def _subject_ticket_id(subject: str) -> int | None:
    for match in _BRACKETED.finditer(subject):
        ticket_id = parse_ticket_number(match.group(1))
        if ticket_id is not None:
            return ticket_id
    return None


async def _may_write(session: AsyncSession, ticket: Ticket, sender: str) -> bool:
    if not sender:
        return False
    contact = select(TicketContact.id).where(
        TicketContact.ticket_id == ticket.id, TicketContact.email == sender, TicketContact.split_at.is_(None)
    )
    if (await session.execute(contact.limit(1))).first() is not None:
        return True
    mailed = select(OutboundMail.id).where(OutboundMail.ticket_id == ticket.id, OutboundMail.to_address == sender)
    return (await session.execute(mailed.limit(1))).first() is not None


async def _ticket(session: AsyncSession, ticket_id: int, sender: str) -> Ticket | None:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.status not in OPEN_STATUSES or not await _may_write(session, ticket, sender):
        return None
    return ticket


async def _draft(session: AsyncSession, draft_id: int, sender: str) -> MailDraft | None:
    draft = await session.get(MailDraft, draft_id)
    if draft is None or draft.status != DRAFT_WAITING or draft.address != sender:
        return None
    return draft


async def _by_message_ids(session: AsyncSession, mail: InboundMail) -> Thread | None:
    ids = mail.thread_ids
    if not ids:
        return None
    rows = (await session.execute(select(MailMessage).where(MailMessage.message_id.in_(ids)))).scalars()
    by_id = {row.message_id: row for row in rows}
    for mid in ids:  # the nearest reference first
        row = by_id.get(mid)
        if row is None:
            continue
        if row.ticket_id is not None and (ticket := await _ticket(session, row.ticket_id, mail.sender)):
            return Thread(ticket=ticket)
        if row.draft_id is not None and (draft := await _draft(session, row.draft_id, mail.sender)):
            return Thread(draft=draft)
    return None


async def _draft_by_subject(session: AsyncSession, mail: InboundMail, subjects: set[str]) -> MailDraft | None:
    stmt = (
        select(MailDraft)
        .where(MailDraft.address == mail.sender, MailDraft.status == DRAFT_WAITING)
        .order_by(MailDraft.id.desc())
        .limit(5)
    )
    subject = normal_subject(mail.subject)
    for draft in (await session.execute(stmt)).scalars():
        if subject and subject in {normal_subject(s) for s in (draft.subject, *subjects_for(draft, subjects))}:
            return draft
    return None


def subjects_for(draft: MailDraft, templates: set[str]) -> list[str]:
    return [t.format(subject=draft.subject) for t in templates]


async def find_thread(*, session: AsyncSession, mail: InboundMail, draft_subjects: set[str]) -> Thread | None:
    """The ticket or draft ``mail`` answers and its sender may write to;
    ``draft_subjects``: the desk's subject lines for a draft's question
    (``{subject}`` in them), in every language."""
    if not mail.sender:
        return None
    thread = await _by_message_ids(session, mail)
    if thread is not None:
        return thread
    ticket_id = _subject_ticket_id(mail.subject)
    if ticket_id is not None and (ticket := await _ticket(session, ticket_id, mail.sender)):
        return Thread(ticket=ticket)
    draft = await _draft_by_subject(session, mail, draft_subjects)
    return Thread(draft=draft) if draft is not None else None
