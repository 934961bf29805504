"""Supervisor figures and the department list."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import Departments, StatsAnswer
from handoff.api.common import require_agent, require_supervisor, transaction
from handoff.api.spec import operation
from handoff.repo import agents as agents_repo
from handoff.services.stats import supervisor_stats

bp = Blueprint("stats", url_prefix="/api/v1")


@bp.get("/stats")
@operation("Queue length, waiting-time percentiles, handled today", auth="supervisor", answers={200: StatsAnswer})
async def stats(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        await require_supervisor(request, session)
        return json(await supervisor_stats(session=session))


@bp.get("/departments")
@operation("Departments (from data/catalogue.yml)", auth="agent", answers={200: Departments})
async def departments(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        await require_agent(request, session)
        depts = await agents_repo.list_departments(session=session)
        return json({"departments": [{"id": d.id, "name": {"en": d.name_en, "tr": d.name_tr}} for d in depts]})
