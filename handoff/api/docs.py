"""The OpenAPI document, written out by hand so it matches the contract."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff import __version__

bp = Blueprint("docs", url_prefix="/api/v1")

_ERROR = {"$ref": "#/components/schemas/Error"}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "string", "example": "T-000123"}}


def _op(summary: str, security: str, *, body: dict[str, Any] | None = None, ok: int = 200, params: list[Any] | None = None, errors: tuple[int, ...] = (400, 401, 404)) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{security: []}] if security else [],
        "responses": {str(ok): {"description": "OK", "content": {"application/json": {}}}},
    }
    for code in errors:
        op["responses"][str(code)] = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Handoff service", "version": __version__},
    "components": {
        "securitySchemes": {
            "serviceToken": {"type": "http", "scheme": "bearer", "description": "HANDOFF_SERVICE_TOKEN (the bot)"},
            "agentSession": {"type": "apiKey", "in": "cookie", "name": "handoff_session"},
        },
        "schemas": {
            "Error": _obj(error=_obj(code={"type": "string"}, message={"type": "string"})),
            "HandoffSummary": {"description": "schemas/handoff_summary.schema.json", "type": "object"},
        },
    },
    "paths": {
        "/api/v1/handoffs": {"post": _op(
            "Create a handoff (idempotent per conversation id and Idempotency-Key)", "serviceToken",
            body={"$ref": "#/components/schemas/HandoffSummary"}, ok=201,
            params=[{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}}],
            errors=(400, 401, 413, 422),
        )},
        "/api/v1/tickets/{number}/status": {"get": _op("Ticket status as a customer may see it", "serviceToken", params=[_NUMBER])},
        "/api/v1/tickets/{number}/messages": {"post": _op(
            "Relay a conversation message to the transcript (idempotent by source_id)", "serviceToken",
            body=_obj(source_id={"type": "string"}, sender={"enum": ["customer", "bot", "system"]}, text={"type": "string", "maxLength": 4096}, timestamp={"type": "string", "format": "date-time"}),
            ok=201, params=[_NUMBER], errors=(400, 401, 404, 409, 413),
        )},
        "/api/v1/tickets/{number}/abandon": {"post": _op("The customer left before the ticket was closed", "serviceToken", params=[_NUMBER], errors=(401, 404, 409))},
        "/api/v1/auth/login": {"post": _op("Log in (rate-limited)", "", body=_obj(username={"type": "string"}, password={"type": "string"}), errors=(400, 401, 429))},
        "/api/v1/auth/logout": {"post": _op("Log out (invalidates this agent's sessions)", "agentSession", errors=(401,))},
        "/api/v1/auth/me": {"get": _op("The logged-in agent", "agentSession", errors=(401,))},
        "/api/v1/queue": {"get": _op("Queued tickets of my departments, priority then age; my open tickets", "agentSession", errors=(401,))},
        "/api/v1/queue/claim": {"post": _op("Claim the next ticket of my departments", "agentSession", errors=(401, 404))},
        "/api/v1/tickets": {"get": _op("Search history", "agentSession", params=[
            {"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in ("username", "number", "from", "to")
        ], errors=(400, 401))},
        "/api/v1/tickets/{number}": {"get": _op("Summary and transcript (audit-logged)", "agentSession", params=[_NUMBER])},
        "/api/v1/tickets/{number}/export": {"get": _op("Download the ticket as JSON (audit-logged)", "agentSession", params=[_NUMBER])},
        "/api/v1/tickets/{number}/claim": {"post": _op("Claim a given ticket", "agentSession", params=[_NUMBER], errors=(401, 404, 409))},
        "/api/v1/tickets/{number}/reply": {"post": _op("Reply to the customer", "agentSession", body=_obj(text={"type": "string", "maxLength": 4096}, client_id={"type": "string", "maxLength": 64}), ok=201, params=[_NUMBER], errors=(400, 401, 404, 409, 413, 502))},
        "/api/v1/tickets/{number}/resolve": {"post": _op("Resolve with a note", "agentSession", body=_obj(note={"type": "string"}), params=[_NUMBER], errors=(400, 401, 404, 409))},
        "/api/v1/tickets/{number}/hand-back": {"post": _op("Hand the conversation back to the bot", "agentSession", params=[_NUMBER], errors=(401, 404, 409, 502))},
        "/api/v1/tickets/{number}/transfer": {"post": _op("Transfer to another department", "agentSession", body=_obj(department={"type": "string"}, note={"type": "string"}), params=[_NUMBER], errors=(400, 401, 404, 409))},
        "/api/v1/departments": {"get": _op("Departments (from data/catalogue.yml)", "agentSession", errors=(401,))},
        "/api/v1/stats": {"get": _op("Queue length, waiting-time percentiles, handled today", "agentSession", errors=(401, 403))},
        "/api/v1/events": {"get": _op("Live updates (text/event-stream)", "agentSession", errors=(401,))},
        "/api/v1/conversations/{conversation_id}/events": {"get": _op(
            "A conversation's transcript from Rasa's event broker, bot-only conversations too (supervisors; audit-logged)",
            "agentSession", params=[
                {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            ], errors=(400, 401, 403),
        )},
        "/api/v1/openapi.json": {"get": _op("This document", "", errors=())},
    },
}


@bp.get("/openapi.json")
async def openapi(request: Request) -> HTTPResponse:
    return json(OPENAPI)
