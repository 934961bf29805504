"""One request per problem: the contacts of a ticket.

A contact is one way a customer reached a ticket: its own conversation (the
first contact, recorded when the ticket is created), or a chat, form
posting or e-mail thread on the same problem that joined it. A customer is
the same customer when the platform's token proves the account, or by the
e-mail address; a username typed in an anonymous chat proves nothing and
joins nothing. Lines a joined contact brings carry the source id prefix
``contact:<id>:`` and the contact's channel, so the console marks them and a
supervisor can split the contact back out with its lines.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, NotFound
from handoff.models import (
    Agent,
    AuditEntry,
    Document,
    MailMessage,
    Message,
    Ticket,
    TicketContact,
    utcnow,
)
from handoff.repo import messages as messages_repo
from handoff.repo import tickets as tickets_repo
from support_rules.summary import TranscriptLine
from support_rules.tickets import OPEN_STATUSES, PRIORITY_RANK, QUEUED, format_ticket_number

__all__ = [
    "CHANNEL_CHAT",
    "CHANNEL_EMAIL",
    "CHANNEL_FORM",
    "MAIL_CHANNELS",
    "contact_for",
    "contact_json",
    "joined_chats",
    "joined_mail_contact",
    "reply_conversation",
    "contact_source_prefix",
    "find_open_request",
    "join_request",
    "list_contacts",
    "normal_email",
    "record_contact",
    "split_contact",
    "ticket_of_contact",
]

# the channels of requests that are not a chat conversation
# (handoff.services.intake), and the mark of a chat's lines on a ticket
# that began elsewhere
CHANNEL_FORM = "form"
CHANNEL_EMAIL = "email"
MAIL_CHANNELS = (CHANNEL_FORM, CHANNEL_EMAIL)
CHANNEL_CHAT = "chat"


def normal_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def contact_source_prefix(contact_id: int) -> str:
    return f"contact:{contact_id}:"


async def record_contact(
    *, session: AsyncSession, ticket: Ticket, channel: str, conversation_id: str, email: str | None, now: datetime
) -> TicketContact:
    row = TicketContact(
        ticket_id=ticket.id,
        channel=channel,
        conversation_id=conversation_id,
        email=normal_email(email),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def contact_for(*, session: AsyncSession, conversation_id: str) -> TicketContact | None:
    """The latest contact recorded under ``conversation_id`` (not split out)."""
    stmt = (
        select(TicketContact)
        .where(TicketContact.conversation_id == conversation_id, TicketContact.split_at.is_(None))
        .order_by(TicketContact.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def ticket_of_contact(
    *, session: AsyncSession, conversation_id: str, open_only: bool = True
) -> tuple[Ticket, TicketContact] | None:
    """The ticket ``conversation_id`` joined (not its own ticket), with the contact."""
    stmt = _OPEN_TICKET_OF_CONTACT if open_only else _TICKET_OF_CONTACT
    row = (await session.execute(stmt, {"conversation_id": conversation_id})).first()
    return None if row is None else (row[0], row[1])


# made once: the broker followers ask for every customer line
_TICKET_OF_CONTACT = (
    select(Ticket, TicketContact)
    .join(TicketContact, TicketContact.ticket_id == Ticket.id)
    .where(
        TicketContact.conversation_id == bindparam("conversation_id"),
        TicketContact.split_at.is_(None),
        Ticket.conversation_id != bindparam("conversation_id"),
    )
    .order_by(TicketContact.id.desc())
    .limit(1)
)
_OPEN_TICKET_OF_CONTACT = _TICKET_OF_CONTACT.where(Ticket.status.in_(OPEN_STATUSES))


def contact_json(contact: TicketContact, ticket: Ticket) -> dict[str, Any]:
    """A contact as agents see it: the channel and when, never the address
    (the summary carries what the customer gave)."""
    return {
        "id": contact.id,
        "channel": contact.channel,
        "own": contact.conversation_id == ticket.conversation_id,
        "joined_at": contact.created_at.isoformat(),
        "split_at": contact.split_at.isoformat() if contact.split_at else None,
        "split_to": format_ticket_number(contact.split_to_ticket_id) if contact.split_to_ticket_id else None,
    }


async def joined_chats(*, session: AsyncSession, ticket: Ticket) -> list[str]:
    """The chat conversations that joined ``ticket`` and are still part of
    it: paused like its own, so they are given back to the bot with it."""
    stmt = select(TicketContact.conversation_id).where(
        TicketContact.ticket_id == ticket.id,
        TicketContact.channel == CHANNEL_CHAT,
        TicketContact.split_at.is_(None),
        TicketContact.conversation_id != ticket.conversation_id,
    )
    return list((await session.execute(stmt.order_by(TicketContact.id))).scalars())


async def joined_mail_contact(*, session: AsyncSession, ticket: Ticket, address: str) -> TicketContact | None:
    """The form or mail contact that joined ``ticket`` under ``address``
    (not the ticket's own, not split off)."""
    if not address:
        return None
    stmt = select(TicketContact).where(
        TicketContact.ticket_id == ticket.id,
        TicketContact.email == normal_email(address),
        TicketContact.channel.in_(MAIL_CHANNELS),
        TicketContact.split_at.is_(None),
        TicketContact.conversation_id != ticket.conversation_id,
    )
    return (await session.execute(stmt.order_by(TicketContact.id.desc()).limit(1))).scalars().first()


async def reply_conversation(*, session: AsyncSession, ticket: Ticket) -> str:
    """The chat an agent's reply goes to: the joined chat the customer wrote
    from last, else the ticket's own conversation."""
    stmt = (
        select(Message.source_id)
        .where(Message.ticket_id == ticket.id, Message.sender == "customer")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    source_id = (await session.execute(stmt)).scalar_one_or_none() or ""
    parts = source_id.split(":", 2)
    if len(parts) == 3 and parts[0] == "contact" and parts[1].isdigit():
        contact = await session.get(TicketContact, int(parts[1]))
        joined_chat = contact is not None and contact.ticket_id == ticket.id and contact.channel == CHANNEL_CHAT
        if joined_chat and contact is not None and contact.split_at is None:
            return contact.conversation_id
    return ticket.conversation_id


async def list_contacts(*, session: AsyncSession, ticket_id: int) -> list[TicketContact]:
    stmt = select(TicketContact).where(TicketContact.ticket_id == ticket_id).order_by(TicketContact.id)
    return list((await session.execute(stmt)).scalars())


async def find_open_request(
    *,
    session: AsyncSession,
    topic_id: str,
    account_username: str | None,
    email: str | None,
    exclude_conversation: str | None = None,
) -> Ticket | None:
    """The customer's open request on ``topic_id``: the oldest one whose
    account is ``account_username`` or that an ``email`` contact reached."""
    email = normal_email(email)
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


async def join_request(
    *,
    session: AsyncSession,
    ticket: Ticket,
    channel: str,
    conversation_id: str,
    email: str | None,
    lines: Iterable[TranscriptLine],
    actor: str = "customer",
    now: datetime | None = None,
) -> TicketContact:
    """Add the contact and what it wrote to ``ticket``, each line marked
    with the contact's channel. Idempotent per contact and line."""
    now = now or utcnow()
    existing = (
        await session.execute(
            select(TicketContact).where(
                TicketContact.ticket_id == ticket.id, TicketContact.conversation_id == conversation_id
            )
        )
    ).scalar_one_or_none()
    row = existing or await record_contact(
        session=session, ticket=ticket, channel=channel, conversation_id=conversation_id, email=email, now=now
    )
    for i, line in enumerate(lines):
        await messages_repo.add_message(
            session=session,
            ticket_id=ticket.id,
            source_id=f"{contact_source_prefix(row.id)}join:{i}",
            sender=line.sender,
            text=line.text,
            created_at=line.timestamp,
            channel=channel,
        )
    if existing is None:
        ticket.updated_at = now
        session.add(AuditEntry(at=now, actor=actor, action="join", ticket_id=ticket.id, detail={"channel": channel}))
        await session.flush()
    return row


async def _move_mail_thread(session: AsyncSession, split: Ticket, moved: list[Message]) -> None:
    """The mails a split-off contact sent (named in its lines' source ids)
    go with it. The desk's earlier mails to its address stay with the
    request: a mail contact joins by an address another contact of it has,
    so replies to them still thread there."""
    inbound = [int(m.source_id.rsplit("mail:", 1)[1]) for m in moved if m.source_id.rsplit("mail:", 1)[-1].isdigit()]
    if inbound:
        await session.execute(update(MailMessage).where(MailMessage.id.in_(inbound)).values(ticket_id=split.id))


async def split_contact(
    *, session: AsyncSession, agent: Agent, ticket: Ticket, contact_id: int, now: datetime | None = None
) -> Ticket:
    """A supervisor takes a wrongly joined contact out of ``ticket``: it
    becomes a queued ticket of its own with the lines and documents it
    brought. A ticket's own first contact cannot be split off."""
    now = now or utcnow()
    contact = await session.get(TicketContact, contact_id, populate_existing=True)
    if contact is None or contact.ticket_id != ticket.id:
        raise NotFound("no such contact on this ticket", code="contact_not_found")
    if contact.split_at is not None:
        raise Conflict("this contact was split off already", code="already_split")
    if contact.conversation_id == ticket.conversation_id:
        raise Conflict("a ticket's own conversation cannot be split off", code="own_contact")
    prefix = contact_source_prefix(contact.id)
    moved = [
        m
        for m in await messages_repo.list_messages(session=session, ticket_id=ticket.id)
        if m.source_id.startswith(prefix)
    ]
    # the split-off customer's own words only: nothing of the request they were wrongly joined to
    own_words = "\n".join(m.text for m in moved if m.sender == "customer")
    summary = copy.deepcopy(ticket.summary)
    summary.update(
        conversation_id=contact.conversation_id,
        channel=contact.channel,
        description=own_words,
        transcript=[{"sender": m.sender, "text": m.text, "timestamp": m.created_at.isoformat()} for m in moved],
    )
    summary.pop("contact_email", None)
    if contact.email:
        summary["contact_email"] = contact.email
    # a chat joined by the account the token proves is that account's; a form or
    # mail joined by its address is not (the address may be someone else's claim)
    same_account = contact.channel == CHANNEL_CHAT and ticket.account_username is not None
    if not same_account:
        summary.update(username=None, username_source=None)
    level = summary.get("priority", {}).get("level", ticket.priority)
    split = await tickets_repo.insert_ticket(
        session=session,
        conversation_id=contact.conversation_id,
        idempotency_key=f"split:{contact.id}",
        channel=contact.channel,
        language=ticket.language,
        username=ticket.username if same_account else None,
        account_username=ticket.account_username if same_account else None,
        department_id=ticket.department_id,
        topic_id=ticket.topic_id,
        kind=ticket.kind,
        priority=level,
        priority_rank=PRIORITY_RANK.get(level, ticket.priority_rank),
        priority_reason=ticket.priority_reason,
        summary=summary,
        status=QUEUED,
        created_at=contact.created_at,
        updated_at=now,
    )
    split.summary = {**summary, "ticket_number": split.number}
    await session.execute(update(Message).where(Message.id.in_([m.id for m in moved])).values(ticket_id=split.id))
    await session.execute(
        update(Document)
        .where(Document.ticket_id == ticket.id, Document.conversation_id == contact.conversation_id)
        .values(ticket_id=split.id)
    )
    await _move_mail_thread(session, split, moved)
    contact.split_at = now
    contact.split_to_ticket_id = split.id
    await record_contact(
        session=session,
        ticket=split,
        channel=contact.channel,
        conversation_id=contact.conversation_id,
        email=contact.email,
        now=now,
    )
    for target, action in ((ticket, "split"), (split, "split_from")):
        session.add(
            AuditEntry(
                at=now,
                actor=agent.username,
                agent_id=agent.id,
                action=action,
                ticket_id=target.id,
                detail={"from": ticket.number, "to": split.number, "channel": contact.channel},
            )
        )
    await session.flush()
    return split
