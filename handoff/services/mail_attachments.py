"""The attachments of an inbound mail, through the documents service's
checks (size, virus scan, content) as the web chat's and the panel's.

A refused file is not lost silently: the ticket gets a line naming it and
the reason's code, and the mail the desk sends back names it in the
customer's language (``refusal_note``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.documents import repo as documents_repo
from handoff.documents.refusals import TOO_LARGE, DocumentRefused
from handoff.documents.scanner import Scanner
from handoff.documents.service import document_line, receive_document
from handoff.documents.storage import DocumentStore
from handoff.mail.parse import Attachment
from handoff.models import Document, Ticket, utcnow
from handoff.repo import messages as messages_repo
from handoff.services.intake import CHANNEL_EMAIL
from handoff.services.outbound_mail import MailTexts
from handoff.settings import Settings

__all__ = [
    "Refusal",
    "Received",
    "DocumentChecks",
    "receive_attachments",
    "link_waiting_documents",
    "note_refusal",
    "refusal_note",
    "ATTACHMENT_TEXTS",
]

log = logging.getLogger("handoff.mail")

# the reasons data/mail.yml words for a customer (the other codes read as "unreadable")
_REASONS = {TOO_LARGE: TOO_LARGE, "empty": "unreadable", "unsupported_type": "unsupported_type", "infected": "infected"}
ATTACHMENT_TEXTS = (
    "attachment_refused",
    "attachments_refused_intro",
    *{f"attachment_reason_{r}" for r in (*_REASONS.values(), "unreadable")},
)
_MARK = "\N{PAPERCLIP}\N{CROSS MARK} "  # a refused file on the ticket: a sign, the name, the code


@dataclass(frozen=True)
class Refusal:
    filename: str
    code: str


@dataclass(frozen=True)
class Received:
    documents: tuple[Document, ...]
    refused: tuple[Refusal, ...]


@dataclass(frozen=True)
class DocumentChecks:
    store: DocumentStore
    scanner: Scanner
    settings: Settings


async def receive_attachments(
    *,
    session: AsyncSession,
    checks: DocumentChecks,
    attachments: Sequence[Attachment],
    conversation_id: str,
    ticket: Ticket | None,
    source: str,
) -> Received:
    """Every attachment checked and kept, or refused; ``source`` keys the
    ticket lines of refusals (one per mail and file)."""
    documents: list[Document] = []
    refused: list[Refusal] = []
    for i, attachment in enumerate(attachments):
        try:
            doc = await receive_document(
                session=session,
                store=checks.store,
                scanner=checks.scanner,
                settings=checks.settings,
                conversation_id=conversation_id,
                ticket=ticket,
                uploader="customer",
                agent_id=None,
                filename=attachment.filename,
                data=attachment.data,
                channel=CHANNEL_EMAIL,
            )
        except DocumentRefused as exc:
            log.info("mail attachment %r refused: %s", attachment.filename[:80], exc.code)
            refusal = Refusal(attachment.filename, exc.code)
            refused.append(refusal)
            if ticket is not None:
                await note_refusal(session=session, ticket=ticket, refusal=refusal, source_id=f"{source}:refused:{i}")
        else:
            documents.append(doc)
    return Received(tuple(documents), tuple(refused))


async def link_waiting_documents(*, session: AsyncSession, conversation_id: str, ticket: Ticket) -> int:
    """The documents a request's mails brought while it waited now belong to
    its ticket, each with its transcript line (as if sent to the ticket)."""
    linked = await documents_repo.link_to_ticket(session=session, conversation_id=conversation_id, ticket_id=ticket.id)
    # linked here or already by the ticket's creation (a new ticket takes its conversation's documents)
    stmt = select(Document).where(Document.conversation_id == conversation_id, Document.ticket_id == ticket.id)
    for doc in (await session.execute(stmt.order_by(Document.id))).scalars():
        await messages_repo.add_message(
            session=session,
            ticket_id=ticket.id,
            source_id=f"document:{doc.id}",
            sender="customer",
            text=document_line(doc),
            created_at=doc.created_at,
            channel=CHANNEL_EMAIL,
        )
    return linked


async def note_refusal(*, session: AsyncSession, ticket: Ticket, refusal: Refusal, source_id: str) -> None:
    await messages_repo.add_message(
        session=session,
        ticket_id=ticket.id,
        source_id=source_id[:255],
        sender="customer",
        text=f"{_MARK}{refusal.filename} ({refusal.code})",
        created_at=utcnow(),
        channel=CHANNEL_EMAIL,
    )


def refusal_note(texts: MailTexts, refused: Sequence[Refusal], language: str) -> str:
    """The lines a mail back adds about refused files ('' when none)."""
    if not refused:
        return ""
    lines = [texts.render("attachments_refused_intro", language)]
    for refusal in refused:
        reason = texts.render(f"attachment_reason_{_REASONS.get(refusal.code, 'unreadable')}", language)
        lines.append(texts.render("attachment_refused", language, filename=refusal.filename, reason=reason))
    return "\n".join(lines)
