"""The contacts of a ticket (handoff.services.contacts): how many ways the
customer reached it, and a supervisor's split of a wrongly joined one."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import ContactList, Empty, TicketAnswer
from handoff.api.common import require_agent, require_supervisor, transaction
from handoff.api.spec import operation
from handoff.live_bus import LiveUpdate
from handoff.models import Ticket
from handoff.services import contacts as svc
from handoff.services.tickets import get_visible_ticket, ticket_json

bp = Blueprint("contacts", url_prefix="/api/v1")


def _update(kind: str, ticket: Ticket) -> LiveUpdate:
    return LiveUpdate(
        type=kind, ticket_number=ticket.number, department=ticket.department_id, assignee_id=ticket.assignee_id
    )


@bp.get("/tickets/<number:str>/contacts")
@operation(
    "The ways the customer reached this ticket, by channel", auth="agent", answers={200: ContactList}, errors=(404,)
)
async def list_contacts(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        ticket = await get_visible_ticket(session=session, agent=agent, number=number)
        rows = await svc.list_contacts(session=session, ticket_id=ticket.id)
        return json({"contacts": [svc.contact_json(row, ticket) for row in rows]})


@bp.post("/tickets/<number:str>/contacts/<contact_id:int>/split")
@operation(
    "Split a wrongly joined contact off into a ticket of its own (supervisors; audit-logged)",
    auth="supervisor",
    body=Empty,
    body_optional=True,
    answers={201: TicketAnswer},
    errors=(403, 404, 409),
)
async def split(request: Request, number: str, contact_id: int) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_supervisor(request, session)
        ticket = await get_visible_ticket(session=session, agent=agent, number=number)
        created = await svc.split_contact(session=session, agent=agent, ticket=ticket, contact_id=contact_id)
        answer = ticket_json(created)
    bus = request.app.ctx.bus
    await bus.publish(_update("ticket.queued", created))
    await bus.publish(_update("ticket.split", ticket))
    return json(answer, status=201)
