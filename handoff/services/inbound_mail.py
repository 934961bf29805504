"""One inbound e-mail, handled in the caller's transaction.

- A Message-ID the desk has seen is handled once: a redelivered mail does
  nothing a second time (``mail_messages``).
- A mail that threads to an open ticket its sender may write to
  (``handoff.services.mail_threads``) adds its new words (quotes cut) and
  attachments to the ticket as customer lines of the ``email`` channel;
  the consoles hear ``message.new``.
- Automatic mail (``handoff.mail.loops``) is never answered: it may reach a
  ticket it threads to, anything else of it is dropped with a log line.
- A mail that answers a waiting draft, or one that answers nothing, is a
  request (``handoff.services.mail_requests``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.mail.loops import automatic_reason
from handoff.mail.parse import InboundMail
from handoff.mail.quotes import new_words
from handoff.models import MailMessage, Ticket, utcnow
from handoff.repo import messages as messages_repo
from handoff.services.contacts import contact_source_prefix, joined_mail_contact
from handoff.services.intake import CHANNEL_EMAIL
from handoff.services.mail_attachments import receive_attachments
from handoff.services.mail_desk import MailDesk, MailOutcome
from handoff.services.mail_drafts import answer_draft
from handoff.services.mail_requests import new_request
from handoff.services.mail_threads import find_thread, seen_inbound
from handoff.services.panel import message_update

__all__ = ["handle_mail", "MailDesk", "MailOutcome"]

log = logging.getLogger("handoff.mail")


async def _add_to_ticket(
    session: AsyncSession, desk: MailDesk, mail: InboundMail, row: MailMessage, ticket: Ticket, now: datetime
) -> MailOutcome:
    row.ticket_id = ticket.id
    text = new_words(mail.text)
    # a mail contact that joined the ticket: its lines and files carry the
    # contact, so a supervisor's split takes them along (handoff.services.contacts)
    joined = await joined_mail_contact(session=session, ticket=ticket, address=mail.sender)
    prefix = "" if joined is None else contact_source_prefix(joined.id)
    added = bool(text) and await messages_repo.add_message(
        session=session,
        ticket_id=ticket.id,
        source_id=f"{prefix}mail:{row.id}",
        sender="customer",
        text=text,
        created_at=now,
        channel=CHANNEL_EMAIL,
    )
    received = await receive_attachments(
        session=session,
        checks=desk.checks,
        attachments=mail.attachments,
        conversation_id=ticket.conversation_id if joined is None else joined.conversation_id,
        ticket=ticket,
        source=f"{prefix}mail:{row.id}",
    )
    if added or received.documents or received.refused:
        ticket.updated_at = now
        return MailOutcome("added", ticket.number, [message_update(ticket)])
    return MailOutcome("added", ticket.number)


async def handle_mail(
    *, session: AsyncSession, desk: MailDesk, mail: InboundMail, now: datetime | None = None
) -> MailOutcome:
    """Do what ``mail`` asks for; the caller commits, then publishes the
    outcome's updates. Raises only on the desk's own failures (the SMTP
    server then answers 451 and the sender retries)."""
    now = now or utcnow()
    if await seen_inbound(session=session, message_id=mail.message_id):
        return MailOutcome("duplicate")
    row = MailMessage(message_id=mail.message_id, direction="in", created_at=now)
    session.add(row)
    await session.flush()
    if mail.problems:
        log.info("mail %s from %s read with problems: %s", mail.message_id[:80], mail.sender, "; ".join(mail.problems))
    thread = await find_thread(session=session, mail=mail, draft_subjects=desk.draft_subjects)
    if thread is not None and thread.ticket is not None:
        return await _add_to_ticket(session, desk, mail, row, thread.ticket, now)
    reason = automatic_reason(mail, desk_domain=desk.domain)
    if reason is not None:
        log.info(
            "automatic mail %s from %r (%s) dropped: it answers no ticket", mail.message_id[:80], mail.sender, reason
        )
        return MailOutcome("dropped", detail={"reason": reason})
    if thread is not None and thread.draft is not None:
        return await answer_draft(session=session, desk=desk, mail=mail, row=row, draft=thread.draft, now=now)
    return await new_request(session=session, desk=desk, mail=mail, row=row, now=now)
