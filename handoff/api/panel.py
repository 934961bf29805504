"""The customer panel: a page (static files, no build step) and its JSON
API under ``/panel/api``, for customers signed in with the platform's token.

The page reads the token from its address's fragment, posts it once to
``POST /panel/api/session`` (with the tab's web chat conversation and its
secret, when the tab holds one: handoff.services.panel.link_conversation)
and clears the fragment; the answer sets the
panel's own session cookie (HttpOnly, SameSite=Strict, path ``/panel``,
and the same for ``/form``: the request form knows the customer by it).
The panel's routes read that cookie only: an agent's session or bearer
token opens nothing here, and the panel's session nothing elsewhere. The
app's cross-origin check (handoff.cross_origin) covers the changes.

What a customer adds to an open request (a message, a document) reaches
the owning agent live, as from the chat, and is shown back in the web chat
too (``CustomerChannel.echo_customer_line``) in case that is still open.
Documents go through the chat's own checks (handoff.documents) and are
served from ``/panel`` with the same inert headers as every download.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from sanic import Blueprint, Request, Sanic, json, raw
from sanic.response import HTTPResponse, file

from handoff.api.bodies import DocumentUpload
from handoff.api.common import CUSTOMER_PAGE_HEADERS, body, transaction
from handoff.api.documents import DOWNLOAD_TYPES, download_headers, read_upload
from handoff.api.panel_bodies import (
    PanelDocumentAdded,
    PanelMessage,
    PanelMessageAdded,
    PanelRequestDetail,
    PanelRequests,
    PanelSignedIn,
    PanelSignedOut,
    PanelSignIn,
)
from handoff.api.spec import file_route, operation
from handoff.api.webchat import WEBCHAT_DIR
from handoff.documents.service import document_line, document_not_found, read_document, receive_document
from handoff.errors import NotFound, Unauthorized
from handoff.models import Ticket
from handoff.panel_session import FORM_PATH, PANEL_COOKIE, PANEL_PATH, PanelSession, PanelSessionSigner
from handoff.services import panel as svc
from handoff.services.channel import ChannelError
from handoff.services.panel_documents import panel_document, request_document
from handoff.settings import Settings
from support_rules.catalogue import load_catalogue

__all__ = ["bp", "PANEL_DIR"]

log = logging.getLogger("handoff.panel")

bp = Blueprint("panel")

PANEL_DIR = Path(__file__).resolve().parent.parent / "panel"
_ASSETS = {
    "panel.js": "text/javascript; charset=utf-8",
    "panel.css": "text/css; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "documents_i18n.js": "text/javascript; charset=utf-8",
}
# served from the web chat's folder: the refusal texts both pages share
_SHARED = {"documents_i18n.js": WEBCHAT_DIR}
_HEADERS = CUSTOMER_PAGE_HEADERS
_NO_STORE = {"Cache-Control": "no-store"}


@bp.before_server_start
async def _open(app: Sanic, _loop: object = None) -> None:
    settings: Settings = app.ctx.settings
    app.ctx.panel_catalogue = load_catalogue(settings.catalogue_path)
    app.ctx.panel_signer = PanelSessionSigner(settings.secret_key)


def _customer(request: Request) -> PanelSession:
    signer: PanelSessionSigner = request.app.ctx.panel_signer
    session = signer.verify(request.cookies.get(PANEL_COOKIE))
    if session is None:
        raise Unauthorized("sign in through the platform first", code="unauthorized")
    return session


# the page


@bp.get("/panel/")
@file_route
async def index(request: Request) -> HTTPResponse:
    return await file(PANEL_DIR / "index.html", headers=_HEADERS, mime_type="text/html; charset=utf-8")


@bp.get("/panel/<name:str>")
@file_route
async def asset(request: Request, name: str) -> HTTPResponse:
    if name not in _ASSETS:
        raise NotFound("no such file")
    return await file(_SHARED.get(name, PANEL_DIR) / name, headers=_HEADERS, mime_type=_ASSETS[name])


# the API


@bp.post("/panel/api/session")
@operation(
    "Customer panel: exchange the platform's signed customer token for the panel's session cookie"
    " (and link the tab's anonymous chat, when its secret proves it)",
    auth=None,
    body=PanelSignIn,
    answers={200: PanelSignedIn},
    errors=(401,),
)
async def sign_in(request: Request) -> HTTPResponse:
    data = body(request, PanelSignIn, max_bytes=8192)
    settings: Settings = request.app.ctx.settings
    now = time.time()
    signed = svc.sign_in(
        token=data.token,
        secret=settings.customer_token_secret,
        signer=request.app.ctx.panel_signer,
        max_age_seconds=settings.panel_session_max_age_seconds,
        now=now,
    )
    linked: list[str] = []
    if data.conversation is not None:
        async with transaction(request) as session:
            linked = await svc.link_conversation(
                session=session,
                username=signed.session.username,
                conversation_id=data.conversation.id,
                secret=data.conversation.secret,
                key=settings.conversation_secret_key,
            )
    expires = datetime.fromtimestamp(signed.session.expires_at, tz=timezone.utc).isoformat()
    response = json(
        {
            "customer": {"username": signed.session.username},
            "language": signed.language,
            "expires_at": expires,
            "linked": linked,
        },
        headers=_NO_STORE,
    )
    for path in (PANEL_PATH, FORM_PATH):  # the request form knows the customer by the same session
        response.add_cookie(
            PANEL_COOKIE,
            signed.cookie,
            httponly=True,
            samesite="Strict",
            secure=settings.cookie_secure or request.scheme == "https",
            path=path,
            max_age=max(1, signed.session.expires_at - int(now)),
        )
    return response


@bp.delete("/panel/api/session")
@operation("Customer panel: sign out (the session cookie is removed)", auth=None, answers={200: PanelSignedOut})
async def sign_out(request: Request) -> HTTPResponse:
    response = json({"signed_out": True}, headers=_NO_STORE)
    for path in (PANEL_PATH, FORM_PATH):
        response.delete_cookie(PANEL_COOKIE, path=path)
    return response


@bp.get("/panel/api/requests")
@operation(
    "Customer panel: the signed-in customer's requests from every channel (open, closed, archived)",
    auth="customer",
    answers={200: PanelRequests},
)
async def requests(request: Request) -> HTTPResponse:
    customer = _customer(request)
    async with transaction(request) as session:
        listed = await svc.list_requests(
            session=session,
            username=customer.username,
            catalogue=request.app.ctx.panel_catalogue,
            texts=request.app.ctx.verification,
        )
    # what the page checks a file against before it sends it (the service decides)
    limits = {"max_document_bytes": request.app.ctx.settings.document_max_bytes}
    return json({**listed, **limits}, headers=_NO_STORE)


@bp.get("/panel/api/requests/<number:str>")
@operation(
    "Customer panel: one of the customer's requests with its steps, transcript and documents",
    auth="customer",
    answers={200: PanelRequestDetail},
    errors=(404,),
)
async def read(request: Request, number: str) -> HTTPResponse:
    customer = _customer(request)
    async with transaction(request) as session:
        detail = await svc.read_request(
            session=session,
            username=customer.username,
            number=number,
            catalogue=request.app.ctx.panel_catalogue,
            rules=request.app.ctx.queue_rules,
            texts=request.app.ctx.verification,
        )
    return json(detail, headers=_NO_STORE)


@bp.post("/panel/api/requests/<number:str>/messages")
@operation(
    "Customer panel: add a message to an open request (it reaches the agent live)",
    auth="customer",
    body=PanelMessage,
    answers={201: PanelMessageAdded, 200: PanelMessageAdded},
    errors=(404, 409),
)
async def add_message(request: Request, number: str) -> HTTPResponse:
    customer = _customer(request)
    data = body(request, PanelMessage, max_bytes=2 * request.app.ctx.settings.max_message_bytes)
    async with transaction(request) as session:
        ticket, message, inserted = await svc.add_message(
            session=session, username=customer.username, number=number, text=data.text, client_id=data.client_id
        )
        line = svc.panel_line(message)
    if inserted:
        await request.app.ctx.bus.publish(svc.message_update(ticket))
        await _to_chat(request, ticket, line["text"])
    return json({"message": line}, status=201 if inserted else 200, headers=_NO_STORE)


async def _to_chat(request: Request, ticket: Ticket, text: str) -> None:
    """The customer's panel line, shown in their web chat too; kept in the
    ticket whatever happens to the chat (closed, Rasa down)."""
    try:
        await request.app.ctx.channel.echo_customer_line(ticket.conversation_id, text)
    except ChannelError as exc:
        log.warning("the panel's line on %s did not reach the chat: %s", ticket.number, exc)


@bp.post("/panel/api/requests/<number:str>/documents", stream=True)
@operation(
    "Customer panel: attach a document to an open request (JPEG, PNG, WebP or PDF; multipart field 'file'); "
    "checked and refused as in the web chat, it reaches the agent live",
    auth="customer",
    body=DocumentUpload,
    body_type="multipart/form-data",
    answers={201: PanelDocumentAdded},
    errors=(404, 409, 413, 422),
)
async def add_document(request: Request, number: str) -> HTTPResponse:
    customer = _customer(request)
    async with transaction(request) as session:  # before a byte of the file is read
        await svc.open_request(session=session, username=customer.username, number=number)
    settings: Settings = request.app.ctx.settings
    filename, data = await read_upload(request, settings.document_max_bytes)
    async with transaction(request) as session:
        ticket = await svc.open_request(session=session, username=customer.username, number=number)
        doc = await receive_document(
            session=session,
            store=request.app.ctx.document_store,
            scanner=request.app.ctx.scanner,
            settings=settings,
            conversation_id=ticket.conversation_id,
            ticket=ticket,
            uploader="customer",
            agent_id=None,
            filename=filename,
            data=data,
            channel=svc.PANEL_CHANNEL,
        )
        view, line = panel_document(doc, ticket.number), document_line(doc)
    await request.app.ctx.bus.publish(svc.message_update(ticket))
    await _to_chat(request, ticket, line)
    return json({"document": view}, status=201, headers=_NO_STORE)


@bp.get("/panel/api/requests/<number:str>/documents/<document_id:int>")
@operation(
    "Customer panel: a document of one of the customer's requests (audit-logged; "
    "another customer's answers as a missing one)",
    auth="customer",
    answers={200: None},
    answer_types=DOWNLOAD_TYPES,
    errors=(404, 409),
)
async def download_document(request: Request, number: str, document_id: int) -> HTTPResponse:
    customer = _customer(request)
    async with transaction(request) as session:
        ticket = await svc.own_request(session=session, username=customer.username, number=number)
        doc = await request_document(session=session, ticket=ticket, document_id=document_id)
        data = await read_document(
            session=session,
            store=request.app.ctx.document_store,
            scanner=request.app.ctx.scanner,
            doc=doc,
            actor="customer",
            agent_id=None,
        )
        headers, content_type = download_headers(doc), doc.content_type
    if data is None:  # held, then found infected: removed
        raise document_not_found()
    return raw(data, content_type=content_type, headers=headers)
