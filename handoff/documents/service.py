"""Document use cases: receive one, list a ticket's, read one.

Who may call them is decided at the edge (``handoff.documents.access``);
these functions take the conversation, the ticket and the uploader as
given, so the web chat, the customer panel and the console share them.

Receiving, in order: the size limit; the virus scan of the bytes as sent
(``infected``: refused; the scanner down: the file is kept but ``held``, served to nobody until a
later scan passes);
the content checks and the clean copy (``handoff.documents.content``); the
bytes into the store under a generated key; the row; a line in the
ticket's transcript. Nothing is stored for a refused file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.documents import repo
from handoff.documents.content import check_document
from handoff.documents.refusals import TOO_LARGE, DocumentRefused
from handoff.documents.scanner import Scanner, Verdict
from handoff.documents.storage import DocumentMissing, DocumentStore, new_storage_key
from handoff.errors import ApiError, NotFound
from handoff.models import MAX_ROW_ID, Document, Ticket, utcnow
from handoff.repo import audit as audit_repo
from handoff.repo import messages as messages_repo
from handoff.settings import Settings

__all__ = [
    "DocumentRefused",
    "DocumentHeld",
    "STORED",
    "HELD",
    "receive_document",
    "documents_for_ticket",
    "document_view",
    "document_line",
    "link_conversation_documents",
    "read_document",
    "document_not_found",
    "get_document",
]

log = logging.getLogger("handoff.documents")

STORED = "stored"
HELD = "held"
# a transcript line for a document: a sign and the file's name, no words to translate
_LINE_MARK = "\N{PAPERCLIP} "


class DocumentHeld(ApiError):
    """The document waits for a virus scan that could not run yet."""

    status, code = 409, "document_held"


def document_not_found() -> NotFound:
    return NotFound("no such document", code="document_not_found")


def document_line(doc: Document) -> str:
    return f"{_LINE_MARK}{doc.filename}"


def document_view(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.id,
        "filename": doc.filename,
        "content_type": doc.content_type,
        "size": doc.size,
        "status": doc.status,
        "created_at": doc.created_at.isoformat(),
        "url": f"/documents/{doc.id}",
        "is_image": doc.content_type.startswith("image/"),
    }


async def receive_document(
    *,
    session: AsyncSession,
    store: DocumentStore,
    scanner: Scanner,
    settings: Settings,
    conversation_id: str,
    ticket: Ticket | None,
    uploader: str,
    agent_id: int | None,
    filename: str,
    data: bytes,
    channel: str | None = None,
    now: datetime | None = None,
) -> Document:
    """Check, scan and keep one document, or raise ``DocumentRefused``.
    ``channel`` marks the transcript line as a customer line written
    elsewhere than the chat is (the panel)."""
    if uploader not in ("customer", "agent"):
        raise ValueError(f"unknown uploader {uploader!r}")
    if len(data) > settings.document_max_bytes:
        raise DocumentRefused(TOO_LARGE)
    if not data:
        raise DocumentRefused("empty")
    scan = await scanner.scan(data)
    if scan.verdict is Verdict.INFECTED:
        log.warning("refused a document with %s", scan.signature or "a signature")
        raise DocumentRefused("infected")
    checked = await asyncio.to_thread(
        check_document,
        data,
        filename,
        max_bytes=settings.document_max_bytes,
        max_pixels=settings.document_max_pixels,
    )
    now = now or utcnow()
    key = new_storage_key()
    await store.put(key, checked.data)
    doc = Document(
        conversation_id=conversation_id,
        ticket_id=ticket.id if ticket else None,
        uploader=uploader,
        agent_id=agent_id,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
        status=HELD if scan.verdict is Verdict.UNAVAILABLE else STORED,
        storage_key=key,
        created_at=now,
    )
    session.add(doc)
    try:
        await session.flush()
    except Exception:
        await store.delete(key)
        raise
    if ticket is not None:
        await _transcript_line(session, doc, ticket.id, channel)
    await audit_repo.add_audit(
        session=session,
        actor=uploader if agent_id is None else f"agent:{agent_id}",
        agent_id=agent_id,
        action="document_upload",
        ticket_id=doc.ticket_id,
        detail={"document": doc.id, "status": doc.status, "content_type": doc.content_type, "size": doc.size},
        at=now,
    )
    return doc


async def _transcript_line(session: AsyncSession, doc: Document, ticket_id: int, channel: str | None) -> None:
    await messages_repo.add_message(
        session=session,
        ticket_id=ticket_id,
        source_id=f"document:{doc.id}",
        sender="customer" if doc.uploader == "customer" else "agent",
        text=document_line(doc),
        agent_id=doc.agent_id,
        created_at=doc.created_at,
        channel=channel,
    )


async def link_conversation_documents(*, session: AsyncSession, ticket: Ticket) -> int:
    """A new ticket takes the documents its conversation sent before it."""
    return await repo.link_to_ticket(session=session, conversation_id=ticket.conversation_id, ticket_id=ticket.id)


async def documents_for_ticket(*, session: AsyncSession, ticket: Ticket) -> list[Document]:
    return await repo.for_ticket(session=session, ticket_id=ticket.id)


async def get_document(*, session: AsyncSession, document_id: int) -> Document:
    doc = (
        None if not 0 < document_id <= MAX_ROW_ID else await repo.get_document(session=session, document_id=document_id)
    )
    if doc is None:
        raise document_not_found()
    return doc


async def read_document(
    *,
    session: AsyncSession,
    store: DocumentStore,
    scanner: Scanner,
    doc: Document,
    actor: str,
    agent_id: int | None,
    now: datetime | None = None,
) -> bytes | None:
    """The bytes of a document the caller may see (audit-logged). A held one
    is scanned again first: clean, it is served from now on; infected, it is
    removed (None: the caller commits that and answers as for a missing
    document); the scanner still down, it stays held (``DocumentHeld``)."""
    now = now or utcnow()
    try:
        data = await store.get(doc.storage_key)
    except DocumentMissing:
        log.error("document %s has no bytes in the store", doc.id)
        raise document_not_found() from None
    if doc.status == HELD:
        scan = await scanner.scan(data)
        if scan.verdict is Verdict.INFECTED:
            log.warning("held document %s is infected (%s): removed", doc.id, scan.signature)
            await session.delete(doc)
            await session.flush()
            await store.delete(doc.storage_key)
            return None
        if scan.verdict is not Verdict.CLEAN:  # never served unscanned
            raise DocumentHeld("the document waits for a virus scan")
        doc.status = STORED
    await audit_repo.add_audit(
        session=session,
        actor=actor,
        agent_id=agent_id,
        action="document_download",
        ticket_id=doc.ticket_id,
        detail={"document": doc.id},
        at=now,
    )
    return data
