"""Reading a conversation's transcript as Rasa's event broker delivered it
(every conversation, handed off or not). Supervisors only; every read is
written to the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import BadRequest, Forbidden
from handoff.models import Agent, ConversationEvent, utcnow
from handoff.repo import audit as audit_repo
from handoff.repo import conversations as conversations_repo
from support_rules.masking import mask_secrets

__all__ = ["read_transcript", "event_json", "MAX_PAGE"]

MAX_PAGE = 500


def event_json(line: ConversationEvent) -> dict[str, Any]:
    return {
        "id": line.id,
        "kind": line.kind,
        "text": mask_secrets(line.text),  # masked when stored; again for rows stored before
        "channel": line.channel,
        "intent": line.intent,
        "confidence": line.confidence,
        "timestamp": line.timestamp.isoformat(),
    }


async def read_transcript(
    *,
    session: AsyncSession,
    agent: Agent,
    conversation_id: str,
    after: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One page, oldest first; ``next_after`` continues it (None on the last page)."""
    if not agent.sees_all:
        raise Forbidden("supervisors only", code="forbidden")
    if not 1 <= limit <= MAX_PAGE or after < 0 or not conversation_id or len(conversation_id) > 255:
        raise BadRequest(f"limit 1-{MAX_PAGE}, after >= 0", code="bad_request")
    lines = await conversations_repo.list_events(
        session=session, conversation_id=conversation_id, after_id=after, limit=limit
    )
    await audit_repo.add_audit(
        session=session,
        actor=agent.username,
        agent_id=agent.id,
        action="view_conversation",
        detail={"conversation_id": conversation_id, "after": after},
        at=now or utcnow(),
    )
    return {
        "conversation_id": conversation_id,
        "events": [event_json(line) for line in lines],
        "next_after": lines[-1].id if len(lines) == limit else None,
    }
