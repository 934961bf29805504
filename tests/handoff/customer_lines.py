"""A customer writing into a handed-off conversation, the way it reaches the
service in production: Rasa publishes a ``user`` event, the broker follower
stores it through the consumer and publishes the live update after the
commit (``handoff.broker.common``)."""

from __future__ import annotations

import time
from typing import Any

from sanic import Sanic

from handoff.broker.common import after_commit, apply_event
from handoff.repo.tickets import get_ticket
from handoff.services.consumer import parse_event
from support_rules.tickets import parse_ticket_number
from tests.handoff.rasa_events import user_event


async def customer_writes(
    app: Sanic, number: str, text: str, *, intent: str = "deposit_problem"
) -> dict[str, Any] | None:
    """The customer of ticket ``number`` writes ``text`` now; the live update
    published for it, if any."""
    ticket_id = parse_ticket_number(number)
    assert ticket_id is not None
    async with app.ctx.sessionmaker() as session, session.begin():
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        assert ticket is not None
        event = parse_event(user_event(ticket.conversation_id, text, time.time(), intent=intent))
        update = await apply_event(session, event)
    if update is None:
        return None
    await after_commit(app.ctx.bus, app.ctx.channel, [(event, update)])
    return dict(update)
