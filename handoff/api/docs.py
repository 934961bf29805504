"""``GET /api/v1/openapi.json``: the document ``handoff/api/spec.py``
generates from the app's routes and models, built once per app."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.spec import build_document, operation

bp = Blueprint("docs", url_prefix="/api/v1")


@bp.get("/openapi.json")
@operation("This document (OpenAPI 3.1)", auth=None)
async def openapi(request: Request) -> HTTPResponse:
    document = getattr(request.app.ctx, "openapi", None)
    if document is None:
        document = request.app.ctx.openapi = build_document(request.app)
    return json(document)
