"""Helpers shared by the blueprints: sessions, authentication, bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from pydantic import BaseModel
from sanic import Request
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
    "body",
    "query",
    "client_address",
    "session_token",
    "bearer_token",
]

SESSION_COOKIE = "handoff_session"

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


async def require_agent(request: Request, session: AsyncSession) -> Agent:
    token = session_token(request)
    agent = None
    if token:
        agent = await agent_from_token(session=session, token=token, signer=request.app.ctx.signer)
    if agent is None:
        raise Unauthorized("log in first", code="unauthorized")
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
