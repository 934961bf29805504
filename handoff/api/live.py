"""Server-sent events for the console: new tickets in my departments, new
messages on my tickets, tickets taken or closed."""

from __future__ import annotations

import json as jsonlib

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handoff.api.common import require_agent, transaction
from handoff.events import RESYNC, Event
from handoff.models import Agent

bp = Blueprint("live", url_prefix="/api/v1")

KEEPALIVE_SECONDS = 15.0


def relevant(event: Event, agent: Agent) -> bool:
    if event.get("type") == RESYNC:
        return True  # updates were lost: every console reloads
    in_my_departments = agent.sees_all or event.get("department") in agent.department_ids
    if event.get("type") == "message.new":
        return event.get("assignee_id") == agent.id
    return in_my_departments or event.get("assignee_id") == agent.id


@bp.get("/events")
async def events(request: Request) -> HTTPResponse | None:
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
            event = await sub.get(timeout=KEEPALIVE_SECONDS)
            if event is None:
                await response.send(": keep-alive\n\n")
                continue
            if relevant(event, agent):
                await response.send(f"event: {event['type']}\ndata: {jsonlib.dumps(event)}\n\n")
    return None
