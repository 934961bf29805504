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
from support_rules.identity import CONVERSATION_HEADER, VERIFIED_USERNAME_HEADER, from_header_value

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
            verification_topics=request.app.ctx.verification.topics,
        )
    if result.created:
        await request.app.ctx.bus.publish(
            {"type": "ticket.queued", "ticket_number": result.ticket.number, "department": result.ticket.department_id}
        )
    return json(result.as_json(), status=201 if result.created else 200)


@bp.get("/tickets/<number:str>/status")
@operation(
    "Ticket status as the asking customer may see it: their own tickets only, another's answers 404 like a missing one",
    auth="service",
    answers={200: TicketStatusAnswer},
    errors=(400, 404),
    headers=(
        Header(CONVERSATION_HEADER, "the conversation asking (percent-encoded); its own tickets are answered"),
        Header(
            VERIFIED_USERNAME_HEADER,
            "the username the customer's signed token proves (percent-encoded): tickets handed off under it too",
            required=False,
        ),
    ),
)
async def ticket_status(request: Request, number: str) -> HTTPResponse:
    require_service(request)
    conversation_id = from_header_value(request.headers.get(CONVERSATION_HEADER, "").strip())
    if not conversation_id:
        raise BadRequest(f"{CONVERSATION_HEADER} header required", code="conversation_id_required")
    verified = from_header_value(request.headers.get(VERIFIED_USERNAME_HEADER, "").strip()) or None
    async with transaction(request) as session:
        status = await svc.customer_ticket_status(
            session=session,
            number=number,
            conversation_id=conversation_id,
            verified_username=verified,
            rules=request.app.ctx.queue_rules,
        )
    return json(status)
