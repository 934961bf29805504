"""The documents of a customer's request, as the panel lists and serves them.

Every document of the ticket is listed, whoever sent it and wherever (the
web chat, the panel, an agent). The panel reaches a document only through a
request of the signed-in account (``handoff.services.panel.own_request``)
and only when the document belongs to that request: a document of another
customer, or of another of their requests, answers exactly as a missing
one. The bytes come through ``/panel`` (the panel session's cookie path),
never through the chat's ``/documents/<id>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.documents.service import document_not_found, document_view, documents_for_ticket, get_document
from handoff.models import Document, Ticket

__all__ = ["panel_document", "panel_document_url", "request_documents", "request_document"]


def panel_document_url(number: str, document_id: int) -> str:
    return f"/panel/api/requests/{number}/documents/{document_id}"


def panel_document(doc: Document, number: str) -> dict[str, Any]:
    """What a customer sees of a document: the documents service's view with
    the panel's own address, and who sent it (the customer or an agent; never
    which agent's login)."""
    return {
        **document_view(doc),
        "url": panel_document_url(number, doc.id),
        "sender": "agent" if doc.uploader == "agent" else "customer",
    }


async def request_documents(*, session: AsyncSession, ticket: Ticket) -> list[dict[str, Any]]:
    return [panel_document(doc, ticket.number) for doc in await documents_for_ticket(session=session, ticket=ticket)]


async def request_document(*, session: AsyncSession, ticket: Ticket, document_id: int) -> Document:
    """The document when it belongs to this request, else ``document_not_found``."""
    doc = await get_document(session=session, document_id=document_id)
    if doc.ticket_id != ticket.id:
        raise document_not_found()
    return doc
