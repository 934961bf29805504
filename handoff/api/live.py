"""``GET /api/v1/live``: the console's live updates (``handoff.live_bus``)
as server-sent events: new tickets in my departments, new messages on my
tickets, tickets taken or closed.

A stream lives no longer than the session that opened it: it ends with a
``session.ended`` event when the agent logs out (on any replica: the
log-out is a live update too), when the session expires, and, checked at
every keep-alive, when the session was revoked some other way."""

from __future__ import annotations

import json as jsonlib
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handoff.api.common import require_agent, session_token, transaction
from handoff.api.spec import operation
from handoff.live_bus import RESYNC, SESSION_ENDED, LiveUpdate
from handoff.models import Agent
from handoff.services.agents import agent_from_token

bp = Blueprint("live", url_prefix="/api/v1")

KEEPALIVE_SECONDS = 15.0


def relevant(update: LiveUpdate, agent: Agent) -> bool:
    if update.get("type") == RESYNC:
        return True  # updates were lost: every console reloads
    in_my_departments = agent.sees_all or update.get("department") in agent.department_ids
    if update.get("type") == "message.new":
        return update.get("assignee_id") == agent.id
    return in_my_departments or update.get("assignee_id") == agent.id


@bp.get("/live")
@operation(
    "Live updates for the console (server-sent events): ticket.queued, ticket.claimed, ticket.closed, "
    "ticket.transferred, message.new, message.delivered (an e-mail reply left), live.resync, session.ended (then the stream closes)",
    auth="agent",
    content_type="text/event-stream",
)
async def live_updates(request: Request) -> HTTPResponse | None:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        session.expunge(agent)
    token = session_token(request) or ""
    claims = request.app.ctx.signer.verify(token)
    expires_at = claims.expires_at if claims else 0
    response = await request.respond(
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    async with request.app.ctx.bus.subscribe() as sub:
        await response.send("retry: 2000\n: connected\n\n")
        while True:
            left = expires_at - time.time()
            if left <= 0:
                break
            update = await sub.get(timeout=min(KEEPALIVE_SECONDS, left))
            if update is None:
                if time.time() < expires_at and await _still_valid(request, token):
                    await response.send(": keep-alive\n\n")
                    continue
                break
            if update.get("type") == SESSION_ENDED:
                if update.get("agent_id") == agent.id:
                    break
                continue
            if relevant(update, agent):
                await response.send(f"event: {update['type']}\ndata: {jsonlib.dumps(update)}\n\n")
        await response.send(f"event: {SESSION_ENDED}\ndata: {{}}\n\n")
    await response.eof()
    return None


async def _still_valid(request: Request, token: str) -> bool:
    """The session was not ended meanwhile (log-out elsewhere, agent deactivated)."""
    async with transaction(request) as session:
        return await agent_from_token(session=session, token=token, signer=request.app.ctx.signer) is not None
