"""Agent endpoints: queue, claim, read, reply, resolve, hand back, transfer,
search, export."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.common import body, require_agent, transaction
from handoff.errors import ApiError
from handoff.events import Event
from handoff.models import Ticket, utcnow
from handoff.schemas import EMPTY, REPLY, RESOLVE, TRANSFER
from handoff.services import tickets as svc
from handoff.services.channel import ChannelError
from handoff.services.queue_notices import notify_agent_joined

bp = Blueprint("tickets", url_prefix="/api/v1")
log = logging.getLogger("handoff.api")


class DeliveryFailed(ApiError):
    status, code = 502, "delivery_failed"


def _event(kind: str, ticket: Ticket, **extra: Any) -> Event:
    return {"type": kind, "ticket_number": ticket.number, "department": ticket.department_id, "assignee_id": ticket.assignee_id, **extra}  # type: ignore[typeddict-item]


async def _claimed(request: Request, ticket: Ticket, display_name: str) -> None:
    await request.app.ctx.bus.publish(_event("ticket.claimed", ticket))
    await notify_agent_joined(request.app.ctx.channel, request.app.ctx.notices, ticket, display_name)


def _limit(request: Request) -> int:
    return 2 * request.app.ctx.settings.max_message_bytes


@bp.get("/queue")
async def queue(request: Request) -> HTTPResponse:
    """Queued tickets of my departments (priority, then age) and my open tickets."""
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        return json(await svc.queue_for(session=session, agent=agent, rules=request.app.ctx.queue_rules))


@bp.post("/queue/claim")
async def claim_next(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, EMPTY, max_bytes=1024, optional=True)
        ticket = await svc.claim_next(session=session, agent=agent)
        display_name = agent.display_name
    if ticket is None:
        return json({"error": {"code": "queue_empty", "message": "no ticket waiting in your departments"}}, status=404)
    await _claimed(request, ticket, display_name)
    return json(svc.ticket_json(ticket))


@bp.get("/tickets")
async def search(request: Request) -> HTTPResponse:
    """History: ?username=, ?number=, ?from=YYYY-MM-DD&to=YYYY-MM-DD."""
    args = {k: request.args.get(k) for k in ("username", "number", "from", "to")}
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        tickets = await svc.search(
            session=session, agent=agent, username=args["username"], number=args["number"],
            date_from=args["from"], date_to=args["to"],
        )
        return json({"tickets": [svc.ticket_json(t) for t in tickets]})


@bp.get("/tickets/<number:str>")
async def read(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        view = await svc.read_ticket(session=session, agent=agent, number=number)
        return json(view.as_json())


@bp.get("/tickets/<number:str>/export")
async def export(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        view = await svc.read_ticket(session=session, agent=agent, number=number, action="export")
        data = view.as_json()
    return json(data, headers={"Content-Disposition": f'attachment; filename="{view.ticket.number}.json"'})


@bp.post("/tickets/<number:str>/claim")
async def claim(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, EMPTY, max_bytes=1024, optional=True)
        ticket = await svc.claim(session=session, agent=agent, number=number)
        display_name = agent.display_name
    await _claimed(request, ticket, display_name)
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/reply")
async def reply(request: Request, number: str) -> HTTPResponse:
    """``client_id`` (optional) makes a retried reply count once; a retry of a
    reply whose delivery failed delivers it (once it is accepted, never again)."""
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, REPLY, max_bytes=_limit(request))
        client_id = data.get("client_id") or uuid.uuid4().hex
        ticket, message, inserted = await svc.reply(
            session=session, agent=agent, number=number, text=data["text"], source_id=f"agent:{agent.id}:{client_id}"
        )
        display_name = agent.display_name
    status = 201 if inserted else 200
    if inserted:
        await request.app.ctx.bus.publish(_event("message.new", ticket, sender="agent"))
    if message.delivered_at is not None:
        return json(svc.message_json(message), status=status)
    try:
        await request.app.ctx.channel.send(ticket.conversation_id, message.text, display_name)
    except Exception:
        log.exception("could not deliver reply on %s", ticket.number)
        raise DeliveryFailed("reply stored but not delivered to the customer; send it again to retry") from None
    async with transaction(request) as session:
        await svc.mark_delivered(session=session, message=message)
        message.delivered_at = utcnow()
    return json(svc.message_json(message), status=status)


@bp.post("/tickets/<number:str>/resolve")
async def resolve(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, RESOLVE, max_bytes=_limit(request), optional=True)
        ticket = await svc.resolve(session=session, agent=agent, number=number, note=data.get("note"))
    await request.app.ctx.bus.publish(_event("ticket.closed", ticket))
    try:
        await request.app.ctx.channel.hand_back(ticket.conversation_id, resolved=True)
    except ChannelError as exc:
        # resolved stands; the bot resumes at the customer's next session (actions/session.py)
        log.warning("customer of %s not told about the resolve: %s", ticket.number, exc)
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/hand-back")
async def hand_back(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, EMPTY, max_bytes=1024, optional=True)
        ticket = await svc.hand_back(session=session, agent=agent, number=number)
    await request.app.ctx.bus.publish(_event("ticket.closed", ticket))
    try:
        await request.app.ctx.channel.hand_back(ticket.conversation_id)
    except Exception:
        log.exception("could not hand %s back to the bot", ticket.number)
        raise DeliveryFailed("ticket closed but the bot was not told") from None
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/transfer")
async def transfer(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, TRANSFER, max_bytes=_limit(request))
        ticket, previous = await svc.transfer(
            session=session, agent=agent, number=number, department=data["department"], note=data.get("note")
        )
    await request.app.ctx.bus.publish(_event("ticket.transferred", ticket, from_department=previous))
    await request.app.ctx.bus.publish(_event("ticket.queued", ticket))
    return json(svc.ticket_json(ticket))
