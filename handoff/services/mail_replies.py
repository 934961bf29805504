"""An agent's reply on a request the customer follows by e-mail.

The reply goes by e-mail when the ticket came by e-mail or the request
form and has its contact's address, or when the customer's latest line on
the ticket came from such a contact (a mail or a form that joined a chat's
ticket). It is then queued (``queue_mail``) in the transaction that stores
it, threaded on the ticket's mail (In-Reply-To the latest Message-ID in or
out, References the thread), and the relay worker sends it
(handoff.mail.worker); Rasa never hears of it. The stored line is marked
``channel="email"``: the line went out by e-mail, and a retried request
(same ``client_id``) neither queues it again (``message_row_id`` is
unique) nor hands it to the chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Message, OutboundMail, Ticket, TicketContact
from handoff.repo import outbound_mail as outbound_repo
from handoff.services import tickets as tickets_svc
from handoff.services.contacts import CHANNEL_CHAT, MAIL_CHANNELS
from handoff.services.intake import CHANNEL_EMAIL
from handoff.services.outbound_mail import MailTexts, queue_mail, subject_for
from support_rules.catalogue import Catalogue

__all__ = ["MAIL_CHANNELS", "ReplyByMail", "MailRoute", "mail_route", "reply", "notice_by_mail", "REFERENCES_KEPT"]

# References names the thread's first mail and its latest ones (RFC 5322 allows trimming the middle)
REFERENCES_KEPT = 20
_CONTACT_LINE = re.compile(r"^contact:(\d+):")


@dataclass(frozen=True)
class ReplyByMail:
    """What a reply by e-mail is written with (one per process)."""

    texts: MailTexts
    domain: str  # of the desk's Message-IDs
    catalogue: Catalogue | None = None


@dataclass(frozen=True)
class MailRoute:
    address: str
    language: str


async def _latest_customer_line(session: AsyncSession, ticket_id: int) -> Message | None:
    stmt = (
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.sender == "customer")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _contact(session: AsyncSession, ticket: Ticket, *, channel: str, line: Message | None) -> str | None:
    """The address of the contact ``line`` came from (intake writes a joined
    contact's lines as ``contact:<id>:<n>``), else of the ticket's latest
    contact on ``channel`` with an address."""
    match = _CONTACT_LINE.match(line.source_id) if line is not None else None
    if match is not None:
        row = await session.get(TicketContact, int(match.group(1)))
        if row is not None and row.ticket_id == ticket.id and row.split_at is None and row.email:
            return row.email
    stmt = (
        select(TicketContact.email)
        .where(
            TicketContact.ticket_id == ticket.id,
            TicketContact.channel == channel,
            TicketContact.split_at.is_(None),
            TicketContact.email.is_not(None),
        )
        .order_by((TicketContact.conversation_id == ticket.conversation_id).desc(), TicketContact.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def mail_route(*, session: AsyncSession, ticket: Ticket) -> MailRoute | None:
    """Where the ticket's replies go by e-mail; None: by the chat."""
    line = await _latest_customer_line(session, ticket.id)
    if line is not None and line.channel == CHANNEL_CHAT:
        return None  # the customer wrote last from a chat that joined the request: answered there
    if line is not None and line.channel in MAIL_CHANNELS:
        address = await _contact(session, ticket, channel=line.channel, line=line)
        if address:
            return MailRoute(address, ticket.language)
    if ticket.channel in MAIL_CHANNELS:
        address = await _contact(session, ticket, channel=ticket.channel, line=None)
        if address:
            return MailRoute(address, ticket.language)
    return None


def _topic_label(mail: ReplyByMail, ticket: Ticket, language: str) -> str:
    entry = mail.catalogue.topic(ticket.topic_id) if mail.catalogue is not None else None
    if entry is not None:
        return entry.label(language)
    topic = ticket.summary.get("topic") if isinstance(ticket.summary, dict) else None
    return str(topic.get("label") or ticket.topic_id) if isinstance(topic, dict) else ticket.topic_id


async def notice_by_mail(*, session: AsyncSession, mail: ReplyByMail, ticket: Ticket, text: str) -> bool:
    """A notice for a customer who follows the ticket by e-mail (documents
    asked for, a verification decision), queued as mail in the thread: the
    chat's notices never reach them. False: the ticket is a chat's."""
    route = await mail_route(session=session, ticket=ticket)
    if route is None:
        return False
    thread = await _thread(session, ticket)
    await queue_mail(
        session=session,
        texts=mail.texts,
        kind="notice",
        to_address=route.address,
        language=route.language,
        subject=subject_for(
            mail.texts, ticket=ticket, topic_label=_topic_label(mail, ticket, route.language), language=route.language
        ),
        values={"text": text, "ticket_number": ticket.number},
        domain=mail.domain,
        ticket=ticket,
        in_reply_to=thread[-1] if thread else None,
        references=thread,
    )
    return True


async def _thread(session: AsyncSession, ticket: Ticket) -> list[str]:
    thread = list(await outbound_repo.thread_ids(session=session, ticket_id=ticket.id))
    if len(thread) > REFERENCES_KEPT:
        thread = thread[:1] + thread[-(REFERENCES_KEPT - 1) :]
    return thread


async def _queue(
    session: AsyncSession, mail: ReplyByMail, ticket: Ticket, message: Message, agent_name: str, route: MailRoute
) -> OutboundMail | None:
    thread = await _thread(session, ticket)
    return await queue_mail(
        session=session,
        texts=mail.texts,
        kind="reply",
        to_address=route.address,
        language=route.language,
        subject=subject_for(
            mail.texts, ticket=ticket, topic_label=_topic_label(mail, ticket, route.language), language=route.language
        ),
        values={"text": message.text, "agent_name": agent_name, "ticket_number": ticket.number},
        domain=mail.domain,
        ticket=ticket,
        message_row_id=message.id,
        in_reply_to=thread[-1] if thread else None,
        references=thread,
    )


async def reply(
    *, session: AsyncSession, agent: Agent, number: str, text: str, source_id: str, mail: ReplyByMail
) -> tuple[Ticket, Message, bool]:
    """``handoff.services.tickets.reply``, by e-mail where the customer
    follows the ticket by e-mail (then ``message.channel == "email"`` and
    the caller does not hand it to the chat)."""
    ticket = await tickets_svc.get_visible_ticket(session=session, agent=agent, number=number)
    route = await mail_route(session=session, ticket=ticket)
    ticket, message, inserted = await tickets_svc.reply(
        session=session,
        agent=agent,
        number=number,
        text=text,
        source_id=source_id,
        channel=CHANNEL_EMAIL if route is not None else None,
    )
    if inserted and route is not None:
        await _queue(session, mail, ticket, message, agent.display_name, route)
    return ticket, message, inserted
