"""Bot-facing endpoints (service token): the contract in schemas/README.md."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import HandoffCreated, TicketStatusAnswer
from handoff.api.common import require_service, transaction
from handoff.api.spec import SUMMARY, Header, operation
from handoff.errors import BadRequest
from handoff.schemas import parse_json
from handoff.services import handoffs as svc

bp = Blueprint("handoffs", url_prefix="/api/v1")

IDEMPOTENCY_KEY_MAX = 255


@bp.post("/handoffs")
@operation(
    "Create a handoff (idempotent per conversation id and Idempotency-Key)",
    auth="service",
    body=SUMMARY,
    answers={201: HandoffCreated, 200: HandoffCreated},
    errors=(422,),
    headers=(
        Header(
            "Idempotency-Key",
            "1-255 characters; a retry with the same key answers the same ticket",
            schema={"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX, "pattern": r"\S"},
        ),
    ),
)
async def create_handoff(request: Request) -> HTTPResponse:
    require_service(request)
    key = request.headers.get("idempotency-key", "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
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
@operation("Ticket status as a customer may see it", auth="service", answers={200: TicketStatusAnswer}, errors=(404,))
async def ticket_status(request: Request, number: str) -> HTTPResponse:
    require_service(request)
    async with transaction(request) as session:
        status = await svc.ticket_status(session=session, number=number, rules=request.app.ctx.queue_rules)
    return json(status)
