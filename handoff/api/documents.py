"""Documents: the web chat's upload, the download, a ticket's list.

Who may see a document: the customer whose conversation sent it (its id
and secret in the ``X-Conversation-Id`` / ``X-Conversation-Secret``
headers) and the agents of its ticket's department (supervisors: all).
Everyone else, signed in or not, gets the answer a missing document gets.
Downloads are audit-logged and served inert: ``nosniff``, a CSP of
``default-src 'none'; sandbox``, ``attachment`` for anything but an image,
never cached.
"""

from __future__ import annotations

from urllib.parse import quote

from sanic import Blueprint, Request, json, raw
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.api.bodies import DocumentAnswer, DocumentList, DocumentUpload
from handoff.api.common import read_capped, require_agent, session_token, transaction
from handoff.api.spec import Header, operation
from handoff.documents.refusals import TOO_LARGE, DocumentRefused
from handoff.documents.service import (
    document_not_found,
    document_view,
    documents_for_ticket,
    get_document,
    read_document,
    receive_document,
)
from handoff.errors import Forbidden
from handoff.models import Agent, Document
from handoff.repo import conversations as conversations_repo
from handoff.repo import tickets as tickets_repo
from handoff.services.agents import agent_from_token
from handoff.services.panel import message_update
from handoff.services.tickets import get_visible_ticket, visible_departments
from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER, secret_matches

__all__ = ["bp", "DOWNLOAD_TYPES", "download_headers", "read_upload"]

bp = Blueprint("documents")

# room for the multipart framing around the file
_FORM_OVERHEAD = 64 * 1024
_CONVERSATION_HEADERS = (
    Header(CONVERSATION_ID_HEADER, "the web chat's conversation id"),
    Header(CONVERSATION_SECRET_HEADER, "the conversation's secret (issued to the customer's browser)"),
)
# what a download may be: the types the content checks accept (handoff.documents.content)
DOWNLOAD_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


def _conversation(request: Request) -> str | None:
    """The conversation whose id and secret the request shows, or None."""
    conversation_id = request.headers.get(CONVERSATION_ID_HEADER.lower())
    secret = request.headers.get(CONVERSATION_SECRET_HEADER.lower())
    key = request.app.ctx.settings.conversation_secret_key
    return conversation_id if secret_matches(key, conversation_id, secret) else None


async def read_upload(request: Request, max_bytes: int) -> tuple[str, bytes]:
    """(file name, bytes) of the form field ``file`` of a streamed route's
    body (the chat's and the panel's uploads); the body is read only up to
    the limit (a larger declared length is refused before reading)."""
    request.body = await read_capped(request, max_bytes + _FORM_OVERHEAD, lambda: DocumentRefused(TOO_LARGE))
    try:
        upload = request.files.get("file") if request.files else None
    except Exception:  # a malformed multipart body
        upload = None
    if upload is None:
        raise DocumentRefused("no_file")
    return upload.name or "", bytes(upload.body)


@bp.post("/chat/documents", stream=True)
@operation(
    "The web chat's customer attaches a document (JPEG, PNG, WebP or PDF; multipart field 'file')",
    auth=None,
    body=DocumentUpload,
    body_type="multipart/form-data",
    headers=_CONVERSATION_HEADERS,
    answers={201: DocumentAnswer},
    errors=(403, 413, 422),
)
async def upload(request: Request) -> HTTPResponse:
    conversation_id = _conversation(request)
    if conversation_id is None:
        raise Forbidden("show the conversation's id and secret", code="conversation_refused")
    settings = request.app.ctx.settings
    filename, data = await read_upload(request, settings.document_max_bytes)
    async with transaction(request) as session:
        ticket = await conversations_repo.latest_open_ticket(session=session, conversation_id=conversation_id)
        doc = await receive_document(
            session=session,
            store=request.app.ctx.document_store,
            scanner=request.app.ctx.scanner,
            settings=settings,
            conversation_id=conversation_id,
            ticket=ticket,
            uploader="customer",
            agent_id=None,
            filename=filename,
            data=data,
        )
        view = document_view(doc)
    if ticket is not None:
        await request.app.ctx.bus.publish(message_update(ticket))
    return json({"document": view}, status=201, headers={"Cache-Control": "no-store"})


async def _agent(request: Request, session: AsyncSession) -> Agent | None:
    token = session_token(request)
    if not token:
        return None
    agent = await agent_from_token(session=session, token=token, signer=request.app.ctx.signer)
    return agent if agent is not None and agent.works_tickets else None


async def _agent_sees(session: AsyncSession, agent: Agent, doc: Document) -> bool:
    if doc.ticket_id is None:
        return False
    ticket = await tickets_repo.get_ticket(session=session, ticket_id=doc.ticket_id)
    departments = visible_departments(agent)
    return ticket is not None and (departments is None or ticket.department_id in departments)


def download_headers(doc: Document) -> dict[str, str]:
    ascii_name = doc.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "inline" if doc.content_type.startswith("image/") else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(doc.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
    }


@bp.get("/documents/<document_id:int>")
@operation(
    "A document's bytes, for its customer (conversation headers) or the agents of its ticket's department "
    "(audit-logged); anyone else gets 404",
    auth=None,
    headers=tuple(Header(h.name, h.description, required=False) for h in _CONVERSATION_HEADERS),
    answers={200: None},
    answer_types=DOWNLOAD_TYPES,
    errors=(404, 409),
)
async def download(request: Request, document_id: int) -> HTTPResponse:
    async with transaction(request) as session:
        doc = await get_document(session=session, document_id=document_id)
        agent = await _agent(request, session)
        if agent is not None and await _agent_sees(session, agent, doc):
            actor, agent_id = agent.username, agent.id
        elif doc.conversation_id == _conversation(request):
            actor, agent_id = "customer", None
        else:
            raise document_not_found()
        data = await read_document(
            session=session,
            store=request.app.ctx.document_store,
            scanner=request.app.ctx.scanner,
            doc=doc,
            actor=actor,
            agent_id=agent_id,
        )
        headers = download_headers(doc)
        content_type = doc.content_type
    if data is None:  # held, then found infected: removed
        raise document_not_found()
    return raw(data, content_type=content_type, headers=headers)


@bp.get("/api/v1/tickets/<number:str>/documents")
@operation("The documents of a ticket", auth="agent", answers={200: DocumentList}, errors=(404,))
async def ticket_documents(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        ticket = await get_visible_ticket(session=session, agent=agent, number=number)
        docs = await documents_for_ticket(session=session, ticket=ticket)
        return json({"documents": [document_view(d) for d in docs]}, headers={"Cache-Control": "no-store"})
