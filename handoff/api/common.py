"""Helpers shared by the blueprints: sessions, authentication, bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from pydantic import BaseModel
from sanic import Request
from sanic.http import Http
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Forbidden, Unauthorized
from handoff.models import Agent
from handoff.schemas import BodyLimits, parse_json, validate_body
from handoff.security import tokens_equal
from handoff.services.agents import agent_from_token

__all__ = [
    "SESSION_COOKIE",
    "transaction",
    "require_service",
    "require_agent",
    "require_supervisor",
    "require_account",
    "require_editor",
    "body",
    "query",
    "client_address",
    "session_token",
    "bearer_token",
    "CUSTOMER_PAGE_HEADERS",
    "read_capped",
]

SESSION_COOKIE = "handoff_session"

# the customer panel's and the request form's pages: nothing from elsewhere,
# no form posting anywhere, never framed, never cached
CUSTOMER_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Body = TypeVar("Body", bound=BaseModel)


@asynccontextmanager
async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and transaction for the request; committed on success."""
    async with request.app.ctx.sessionmaker() as session, session.begin():
        yield session


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def session_token(request: Request) -> str | None:
    """The agent's token: a bearer token if the request has one (API
    clients), else the session cookie (the console; its changes pass the
    cross-origin check, handoff.cross_origin)."""
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


def require_service(request: Request) -> None:
    token = bearer_token(request)
    if not token or not tokens_equal(token, request.app.ctx.settings.service_token):
        raise Unauthorized("service token required", code="unauthorized")


async def require_account(request: Request, session: AsyncSession) -> Agent:
    """Whoever is logged in to the console, whatever their role."""
    token = session_token(request)
    agent = None
    if token:
        agent = await agent_from_token(session=session, token=token, signer=request.app.ctx.signer)
    if agent is None:
        raise Unauthorized("log in first", code="unauthorized")
    return agent


async def require_agent(request: Request, session: AsyncSession) -> Agent:
    """Someone who works tickets: agents, supervisors, admins; an editor
    sees the editors' pages only."""
    agent = await require_account(request, session)
    if not agent.works_tickets:
        raise Forbidden("editors use the editor pages only", code="forbidden")
    return agent


async def require_editor(request: Request, session: AsyncSession) -> Agent:
    """Someone who may use the editors' pages: editors, supervisors, admins."""
    agent = await require_account(request, session)
    if not agent.edits:
        raise Forbidden("editors and supervisors only", code="forbidden")
    return agent


async def require_supervisor(request: Request, session: AsyncSession) -> Agent:
    agent = await require_agent(request, session)
    if not agent.sees_all:
        raise Forbidden("supervisors only", code="forbidden")
    return agent


def body(request: Request, model: type[Body], *, max_bytes: int, optional: bool = False) -> Body:
    """Decode a JSON body and check it against ``model`` (handoff/api/bodies.py);
    an empty body is ``{}`` when ``optional``."""
    raw = request.body
    data = {} if optional and not raw else parse_json(raw, max_bytes=max_bytes)
    settings = request.app.ctx.settings
    limits = BodyLimits(message_bytes=settings.max_message_bytes, message_chars=settings.max_message_chars)
    return validate_body(model, data, limits=limits)


def query(request: Request, model: type[Body]) -> Body:
    """The query arguments (the first of each name) checked against ``model``."""
    return validate_body(model, {name: request.args.get(name) for name in request.args})


def client_address(request: Request) -> str:
    """The client's address: from the forwarding headers only when a trusted
    proxy sent them (handoff.proxies)."""
    return request.app.ctx.proxies.client_address(peer=request.ip, forwarded=request.forwarded)


async def read_capped(request: Request, cap: int, too_large: Callable[[], Exception]) -> bytes:
    """A streaming route's body, refused with ``too_large()`` before reading
    when its declared length passes ``cap`` bytes, and as soon as what
    arrives does (a chunked upload declares no length)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise too_large()
    body = bytearray()
    stream = cast(Http, request.stream)  # a streaming route: Sanic's HTTP/1.1 stream
    while True:
        chunk = await stream.read() if stream is not None else None
        if chunk is None:
            return bytes(body)
        body.extend(chunk)
        if len(body) > cap:
            raise too_large()
