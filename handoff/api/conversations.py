"""A conversation's transcript from Rasa's event broker (supervisors)."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.common import require_agent, transaction
from handoff.errors import BadRequest
from handoff.services.conversations import read_transcript

bp = Blueprint("conversations", url_prefix="/api/v1")


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", code="bad_request") from None


@bp.get("/conversations/<conversation_id:str>/events")
async def conversation_events(request: Request, conversation_id: str) -> HTTPResponse:
    after, limit = _int_arg(request, "after", 0), _int_arg(request, "limit", 100)
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        page = await read_transcript(session=session, agent=agent, conversation_id=conversation_id, after=after, limit=limit)
    return json(page)
