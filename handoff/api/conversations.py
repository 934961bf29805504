"""A conversation's transcript from Rasa's event broker (supervisors)."""

from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import TranscriptPage, TranscriptQuery
from handoff.api.common import query, require_supervisor, transaction
from handoff.api.spec import operation
from handoff.services.conversations import read_transcript

bp = Blueprint("conversations", url_prefix="/api/v1")


@bp.get("/conversations/<conversation_id:str>/events")
@operation(
    "A conversation's transcript from Rasa's event broker, bot-only conversations too (supervisors; audit-logged)",
    auth="supervisor",
    query=TranscriptQuery,
    answers={200: TranscriptPage},
    errors=(400,),
)
async def conversation_events(request: Request, conversation_id: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_supervisor(request, session)
        page_of = query(request, TranscriptQuery)
        page = await read_transcript(
            session=session, agent=agent, conversation_id=conversation_id, after=page_of.after, limit=page_of.limit
        )
    return json(page)
