"""Tell waiting customers when they move up the queue, and when an agent joins.

``plan_queue_notices`` is the rule (pure): a customer hears about a new
position only when it is better than the one they were last told, and at
most once per ``interval`` seconds; a ticket seen for the first time is
only remembered (the bot told its position at handoff). ``QueueNotifier``
applies it every few seconds to the whole queue. The memory is on the
ticket rows (``told_position``, ``told_at``) and every change to it is a
compare-and-set, so when several replicas run a notifier each notice is
sent by exactly one of them, and a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import Ticket, utcnow
from handoff.notices import Notices
from handoff.services.channel import ChannelError, CustomerChannel
from handoff.services.handoffs import QueueRules
from handoff.services.tickets import queued_with_positions

__all__ = ["Told", "plan_queue_notices", "QueueNotifier", "notify_agent_joined", "wait_minutes"]

log = logging.getLogger("handoff.notices")


@dataclass(frozen=True)
class Told:
    position: int
    at: datetime


def wait_minutes(seconds: int | None) -> int:
    return max(1, math.ceil((seconds or 0) / 60))


def plan_queue_notices(
    told: Mapping[int, Told], positions: Mapping[int, int], now: datetime, interval_seconds: float
) -> tuple[list[int], dict[int, Told]]:
    """Tickets to notify now, and the memory to keep (queued tickets only)."""
    due: list[int] = []
    memory: dict[int, Told] = {}
    for ticket_id, position in positions.items():
        before = told.get(ticket_id)
        if before is None:
            memory[ticket_id] = Told(position, now)
        elif position < before.position and (now - before.at).total_seconds() >= interval_seconds:
            due.append(ticket_id)
            memory[ticket_id] = Told(position, now)
        elif position > before.position:
            memory[ticket_id] = Told(position, before.at)  # pushed back: say nothing
        else:
            memory[ticket_id] = before
    return due, memory


class QueueNotifier:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        channel: CustomerChannel,
        notices: Notices,
        rules: QueueRules,
        interval_seconds: float,
        poll_seconds: float,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channel = channel
        self._notices = notices
        self._rules = rules
        self._interval = interval_seconds
        self._poll = poll_seconds

    async def tick(self, now: datetime | None = None) -> list[str]:
        """One pass over the queue; the ticket numbers told a new position."""
        now = now or utcnow()
        async with self._sessionmaker() as session:
            queued = await queued_with_positions(session=session, rules=self._rules, departments=None, now=now, limit=5000)
        found = {ticket.id: (ticket, position, wait) for ticket, position, wait in queued}
        before = {
            ticket.id: Told(ticket.told_position, ticket.told_at)
            for ticket, _, _ in queued
            if ticket.told_position is not None and ticket.told_at is not None
        }
        due, memory = plan_queue_notices(before, {tid: pos for tid, (_, pos, _) in found.items()}, now, self._interval)
        told: list[str] = []
        for ticket_id, after in memory.items():
            if after == before.get(ticket_id) or not await self._remember(ticket_id, before.get(ticket_id), after):
                continue  # unchanged, or another replica got there first
            if ticket_id not in due:
                continue
            ticket, position, wait = found[ticket_id]
            text = self._notices.render("queue_position", ticket.language, queue_position=position, wait_minutes=wait_minutes(wait))
            try:
                await self._channel.notify(ticket.conversation_id, text)
                told.append(ticket.number)
            except ChannelError as exc:
                log.warning("queue notice for %s not delivered: %s", ticket.number, exc)
                await self._remember(ticket_id, after, before.get(ticket_id))  # try again next pass
        return told

    async def _remember(self, ticket_id: int, expected: Told | None, new: Told | None) -> bool:
        """Compare-and-set of a ticket's memory: true when this call changed it."""
        was_position, was_at = (expected.position, expected.at) if expected else (None, None)
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.told_position.is_not_distinct_from(was_position),
                    Ticket.told_at.is_not_distinct_from(was_at),
                )
                .values(told_position=new.position if new else None, told_at=new.at if new else None)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the notices
                log.exception("queue notice pass failed")
            await asyncio.sleep(self._poll)


async def notify_agent_joined(channel: CustomerChannel, notices: Notices, ticket: Ticket, agent_display_name: str) -> bool:
    """Best effort: the claim stands even when the customer cannot be told."""
    text = notices.render("agent_joined", ticket.language, agent_name=agent_display_name)
    try:
        await channel.notify(ticket.conversation_id, text)
        return True
    except ChannelError as exc:
        log.warning("agent-joined notice for %s not delivered: %s", ticket.number, exc)
        return False


