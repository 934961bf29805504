"""``GET /api/v1/live``: the console's live updates (``handoff.live_bus``)
as server-sent events: new tickets in my departments, new messages on my
tickets, tickets taken or closed."""

from __future__ import annotations

import json as jsonlib

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handoff.api.common import require_agent, transaction
from handoff.api.spec import operation
from handoff.live_bus import RESYNC, LiveUpdate
from handoff.models import Agent

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
    "ticket.transferred, message.new, live.resync",
    auth="agent",
    content_type="text/event-stream",
)
async def live_updates(request: Request) -> HTTPResponse | None:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        session.expunge(agent)
    response = await request.respond(
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    async with request.app.ctx.bus.subscribe() as sub:
        await response.send("retry: 2000\n: connected\n\n")
        while True:
            update = await sub.get(timeout=KEEPALIVE_SECONDS)
            if update is None:
                await response.send(": keep-alive\n\n")
                continue
            if relevant(update, agent):
                await response.send(f"event: {update['type']}\ndata: {jsonlib.dumps(update)}\n\n")
    return None
