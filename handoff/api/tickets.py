"""Agent endpoints: queue, claim, read, reply, resolve, hand back, transfer,
search, export."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.api.bodies import (
    Empty,
    MessageAnswer,
    QueueAnswer,
    Reply,
    Resolve,
    TicketAnswer,
    TicketDetail,
    TicketList,
    TicketSearch,
    Transfer,
)
from handoff.api.common import body, query, require_agent, transaction
from handoff.api.spec import operation
from handoff.errors import ApiError
from handoff.live_bus import LiveUpdate
from handoff.mail.serve import wake_mail_worker
from handoff.models import Ticket, utcnow
from handoff.services import mail_replies
from handoff.services import tickets as svc
from handoff.services.channel import ChannelError
from handoff.services.contacts import joined_chats, reply_conversation
from handoff.services.intake import CHANNEL_EMAIL
from handoff.services.queue_notices import notify_agent_joined
from handoff.services.verification import customer_verification
from support_rules.tickets import RESOLVED_INTENT

bp = Blueprint("tickets", url_prefix="/api/v1")
log = logging.getLogger("handoff.api")


class DeliveryFailed(ApiError):
    status, code = 502, "delivery_failed"


def _update(kind: str, ticket: Ticket, *, sender: str | None = None, from_department: str | None = None) -> LiveUpdate:
    update = LiveUpdate(
        type=kind, ticket_number=ticket.number, department=ticket.department_id, assignee_id=ticket.assignee_id
    )
    if sender is not None:
        update["sender"] = sender
    if from_department is not None:
        update["from_department"] = from_department
    return update


async def _claimed(request: Request, ticket: Ticket, display_name: str) -> None:
    await request.app.ctx.bus.publish(_update("ticket.claimed", ticket))
    await notify_agent_joined(request.app.ctx.channel, request.app.ctx.notice_texts, ticket, display_name)


async def _detail(request: Request, session: AsyncSession, view: svc.TicketView) -> dict[str, Any]:
    """The ticket as agents read it, with its customer's verification status."""
    customer = await customer_verification(session=session, ticket=view.ticket, texts=request.app.ctx.verification)
    return {**view.as_json(), "customer_verification": customer}


def _limit(request: Request) -> int:
    return 2 * request.app.ctx.settings.max_message_bytes


@bp.get("/queue")
@operation(
    "Queued tickets of my departments, priority then age; my open tickets", auth="agent", answers={200: QueueAnswer}
)
async def queue(request: Request) -> HTTPResponse:
    """Queued tickets of my departments (priority, then age) and my open tickets."""
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        return json(await svc.queue_for(session=session, agent=agent, rules=request.app.ctx.queue_rules))


@bp.post("/queue/claim")
@operation(
    "Claim the next ticket of my departments",
    auth="agent",
    body=Empty,
    body_optional=True,
    answers={200: TicketAnswer},
    errors=(404,),
)
async def claim_next(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, Empty, max_bytes=1024, optional=True)
        ticket = await svc.claim_next(session=session, agent=agent)
        display_name = agent.display_name
    if ticket is None:
        return json({"error": {"code": "queue_empty", "message": "no ticket waiting in your departments"}}, status=404)
    await _claimed(request, ticket, display_name)
    return json(svc.ticket_json(ticket))


@bp.get("/tickets")
@operation("Search history", auth="agent", query=TicketSearch, answers={200: TicketList}, errors=(400,))
async def search(request: Request) -> HTTPResponse:
    """History: ?username=, ?number=, ?from=YYYY-MM-DD&to=YYYY-MM-DD."""
    args = query(request, TicketSearch)
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        tickets = await svc.search(
            session=session,
            agent=agent,
            username=args.username,
            number=args.number,
            date_from=args.date_from,
            date_to=args.date_to,
        )
        return json({"tickets": [svc.ticket_json(t) for t in tickets]})


@bp.get("/tickets/<number:str>")
@operation("Summary and transcript (audit-logged)", auth="agent", answers={200: TicketDetail}, errors=(404,))
async def read(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        view = await svc.read_ticket(session=session, agent=agent, number=number)
        return json(await _detail(request, session, view))


@bp.get("/tickets/<number:str>/export")
@operation("Download the ticket as JSON (audit-logged)", auth="agent", answers={200: TicketDetail}, errors=(404,))
async def export(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        view = await svc.read_ticket(session=session, agent=agent, number=number, action="export")
        data = await _detail(request, session, view)
    return json(data, headers={"Content-Disposition": f'attachment; filename="{view.ticket.number}.json"'})


@bp.post("/tickets/<number:str>/claim")
@operation(
    "Claim a given ticket", auth="agent", body=Empty, body_optional=True, answers={200: TicketAnswer}, errors=(404, 409)
)
async def claim(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, Empty, max_bytes=1024, optional=True)
        ticket = await svc.claim(session=session, agent=agent, number=number)
        display_name = agent.display_name
    await _claimed(request, ticket, display_name)
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/reply")
@operation(
    "Reply to the customer; a retry with the same client_id counts once",
    auth="agent",
    body=Reply,
    answers={201: MessageAnswer, 200: MessageAnswer},
    errors=(404, 409, 502),
)
async def reply(request: Request, number: str) -> HTTPResponse:
    """``client_id`` (optional) makes a retried reply count once; a retry of a
    reply whose delivery failed delivers it (once it is accepted, never again).
    On a request the customer follows by e-mail the reply is queued as mail
    (handoff.services.mail_replies): the answer says it is not delivered yet,
    and ``message.delivered`` follows when the relay has taken it."""
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, Reply, max_bytes=_limit(request))
        client_id = data.client_id or uuid.uuid4().hex
        ticket, message, inserted = await mail_replies.reply(
            session=session,
            agent=agent,
            number=number,
            text=data.text,
            source_id=f"agent:{agent.id}:{client_id}",
            mail=request.app.ctx.reply_by_mail,
        )
        display_name = agent.display_name
        target = await reply_conversation(session=session, ticket=ticket)
    status = 201 if inserted else 200
    if inserted:
        await request.app.ctx.bus.publish(_update("message.new", ticket, sender="agent"))
    if message.delivered_at is not None:
        return json(svc.message_json(message), status=status)
    if message.channel == CHANNEL_EMAIL:
        wake_mail_worker(request.app)
        return json(svc.message_json(message), status=status)
    try:
        await request.app.ctx.channel.send(target, message.text, display_name)
    except Exception:
        log.exception("could not deliver reply on %s", ticket.number)
        raise DeliveryFailed("reply stored but not delivered to the customer; send it again to retry") from None
    async with transaction(request) as session:
        await svc.mark_delivered(session=session, message=message)
        message.delivered_at = utcnow()
    return json(svc.message_json(message), status=status)


@bp.post("/tickets/<number:str>/resolve")
@operation(
    "Resolve with a note",
    auth="agent",
    body=Resolve,
    body_optional=True,
    answers={200: TicketAnswer},
    errors=(404, 409),
)
async def resolve(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, Resolve, max_bytes=_limit(request), optional=True)
        ticket = await svc.resolve(session=session, agent=agent, number=number, note=data.note)
        joined = await joined_chats(session=session, ticket=ticket)
    await request.app.ctx.bus.publish(_update("ticket.closed", ticket))
    for conversation_id in (ticket.conversation_id, *joined):
        try:
            await request.app.ctx.channel.hand_back(conversation_id, intent=RESOLVED_INTENT)
        except ChannelError as exc:
            # resolved stands; the bot resumes at the customer's next session (actions/session.py)
            log.warning("customer of %s not told about the resolve: %s", ticket.number, exc)
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/hand-back")
@operation(
    "Hand the conversation back to the bot",
    auth="agent",
    body=Empty,
    body_optional=True,
    answers={200: TicketAnswer},
    errors=(404, 409, 502),
)
async def hand_back(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, Empty, max_bytes=1024, optional=True)
        ticket = await svc.hand_back(session=session, agent=agent, number=number)
        joined = await joined_chats(session=session, ticket=ticket)
    await request.app.ctx.bus.publish(_update("ticket.closed", ticket))
    for conversation_id in joined:  # chats that joined this request go back to the bot with it
        try:
            await request.app.ctx.channel.hand_back(conversation_id)
        except ChannelError as exc:
            log.warning("a joined chat of %s not given back: %s", ticket.number, exc)
    try:
        await request.app.ctx.channel.hand_back(ticket.conversation_id)
    except Exception:
        log.exception("could not hand %s back to the bot", ticket.number)
        raise DeliveryFailed("ticket closed but the bot was not told") from None
    return json(svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/transfer")
@operation(
    "Transfer to another department", auth="agent", body=Transfer, answers={200: TicketAnswer}, errors=(404, 409)
)
async def transfer(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, Transfer, max_bytes=_limit(request))
        ticket, previous = await svc.transfer(
            session=session, agent=agent, number=number, department=data.department, note=data.note
        )
    await request.app.ctx.bus.publish(_update("ticket.transferred", ticket, from_department=previous))
    await request.app.ctx.bus.publish(_update("ticket.queued", ticket))
    return json(svc.ticket_json(ticket))
