"""Health check for load balancers and container orchestrators.

``GET /healthz``: 200 when this replica can reach its database, 503 when it
cannot. Nothing about the deployment is disclosed beyond that.
"""

from __future__ import annotations

import asyncio
import logging

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse
from sqlalchemy import text

from handoff.api.bodies import Health
from handoff.api.spec import operation

bp = Blueprint("health")

log = logging.getLogger("handoff.health")


@bp.get("/healthz")
@operation("This replica reaches its database (200) or not (503)", auth=None, answers={200: Health, 503: Health})
async def healthz(request: Request) -> HTTPResponse:
    try:
        async with request.app.ctx.sessionmaker() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), 5)
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        return json({"status": "unavailable"}, status=503)
    return json({"status": "ok"})
