"""Bot-facing endpoints (service token): the contract in schemas/README.md."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.common import body, require_service, transaction
from handoff.errors import BadRequest
from handoff.schemas import BOT_MESSAGE, EMPTY, parse_json
from handoff.services import handoffs as svc

bp = Blueprint("handoffs", url_prefix="/api/v1")


@bp.post("/handoffs")
async def create_handoff(request: Request) -> HTTPResponse:
    require_service(request)
    key = request.headers.get("idempotency-key", "").strip()
    if not key or len(key) > 255:
        raise BadRequest("Idempotency-Key header required (1-255 characters)", code="idempotency_key_required")
    summary = parse_json(request.body, max_bytes=request.app.ctx.settings.max_body_bytes)
    async with transaction(request) as session:
        result = await svc.create_handoff(
            session=session,
            summary=summary,
            idempotency_key=key,
            validator=request.app.ctx.summary_validator,
            rules=request.app.ctx.queue_rules,
        )
    if result.created:
        await request.app.ctx.bus.publish(
            {"type": "ticket.queued", "ticket_number": result.ticket.number, "department": result.ticket.department_id}
        )
    return json(result.as_json(), status=201 if result.created else 200)


@bp.get("/tickets/<number:str>/status")
async def ticket_status(request: Request, number: str) -> HTTPResponse:
    require_service(request)
    async with transaction(request) as session:
        status = await svc.ticket_status(session=session, number=number, rules=request.app.ctx.queue_rules)
    return json(status)


@bp.post("/tickets/<number:str>/messages")
async def relay_message(request: Request, number: str) -> HTTPResponse:
    """A customer (or bot/system) message of a handed-off conversation."""
    require_service(request)
    data = body(request, BOT_MESSAGE, max_bytes=2 * request.app.ctx.settings.max_message_bytes)
    async with transaction(request) as session:
        ticket, inserted = await svc.add_bot_message(
            session=session,
            number=number,
            source_id=data["source_id"],
            sender=data["sender"],
            text=data["text"],
            timestamp=data.get("timestamp"),
        )
    if inserted:
        await request.app.ctx.bus.publish(
            {
                "type": "message.new",
                "ticket_number": ticket.number,
                "department": ticket.department_id,
                "assignee_id": ticket.assignee_id,
                "sender": data["sender"],
            }
        )
    return json({"ticket_number": ticket.number, "stored": inserted}, status=201 if inserted else 200)


@bp.post("/tickets/<number:str>/abandon")
async def abandon(request: Request, number: str) -> HTTPResponse:
    """The customer left the conversation before it was closed."""
    require_service(request)
    body(request, EMPTY, max_bytes=1024, optional=True)
    async with transaction(request) as session:
        ticket = await svc.abandon(session=session, number=number)
    await request.app.ctx.bus.publish(
        {"type": "ticket.closed", "ticket_number": ticket.number, "department": ticket.department_id, "assignee_id": ticket.assignee_id}
    )
    return json({"ticket_number": ticket.number, "status": ticket.status})
