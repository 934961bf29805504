"""Tell waiting customers when they move up the queue, and when an agent joins.

``plan_queue_notices`` is the rule (pure): a customer hears about a new
position only when it is better than the one they were last told, and at
most once per ``interval`` seconds; a ticket seen for the first time is
only remembered (the bot told its position at handoff). ``QueueNotifier``
applies it every few seconds to the whole queue. The memory is on the
ticket rows (``told_position``, ``told_at``) and every change to it is a
compare-and-set, so when several replicas run a notifier each notice is
sent by exactly one of them, and a restart forgets nothing.

Each pass first closes, as ``abandoned``, the queued tickets whose customer
has been silent longer than ``abandon_after_seconds``
(``HANDOFF_ABANDON_AFTER_SECONDS``; ``handoff.services.abandon``), so the
positions it tells already count without them. The notifier is the
periodic job for this because it runs in every ``serve`` replica all the
time and walks the queue anyway; retention, once a day, applies the same
rule (``handoff.services.retention``), also when this one is off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import LiveBus
from handoff.models import Ticket, utcnow
from handoff.notice_texts import NoticeTexts
from handoff.services.abandon import SILENT, abandon_silent, closed_event
from handoff.services.channel import ChannelError, CustomerChannel
from handoff.services.queue_positions import QueueRules, queued_places
from support_rules.limits import wait_minutes

__all__ = ["Told", "plan_queue_notices", "QueueNotifier", "notify_agent_joined"]

log = logging.getLogger("handoff.notices")


@dataclass(frozen=True)
class Told:
    position: int
    at: datetime


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
        texts: NoticeTexts,
        rules: QueueRules,
        interval_seconds: float,
        poll_seconds: float,
        abandon_after_seconds: int | None = None,
        bus: LiveBus | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._channel = channel
        self._texts = texts
        self._rules = rules
        self._interval = interval_seconds
        self._poll = poll_seconds
        self._abandon_after = abandon_after_seconds
        self._bus = bus

    async def abandon_silent(self, now: datetime) -> list[str]:
        """Close the tickets of customers silent too long; their numbers."""
        if not self._abandon_after:
            return []
        async with self._sessionmaker() as session, session.begin():
            closed = await abandon_silent(session=session, silent_seconds=self._abandon_after, now=now)
        for ticket in closed:
            log.info("ticket %s abandoned: customer silent for %s s", ticket.number, self._abandon_after)
            if self._bus is not None:
                await self._bus.publish(closed_event(ticket, SILENT))
        return [ticket.number for ticket in closed]

    async def tick(self, now: datetime | None = None) -> list[str]:
        """One pass over the queue; the ticket numbers told a new position."""
        now = now or utcnow()
        await self.abandon_silent(now)
        async with self._sessionmaker() as session:
            places = await queued_places(session=session, rules=self._rules, now=now, limit=5000)
        found = {p.ticket.id: p for p in places}
        before = {
            p.ticket.id: Told(p.ticket.told_position, p.ticket.told_at)
            for p in places
            if p.ticket.told_position is not None and p.ticket.told_at is not None
        }
        due, memory = plan_queue_notices(before, {tid: p.position for tid, p in found.items()}, now, self._interval)
        told: list[str] = []
        for ticket_id, after in memory.items():
            if after == before.get(ticket_id) or not await self._remember(ticket_id, before.get(ticket_id), after):
                continue  # unchanged, or another replica got there first
            if ticket_id not in due:
                continue
            place = found[ticket_id]
            ticket = place.ticket
            text = self._texts.render(
                "queue_position",
                ticket.language,
                queue_position=place.position,
                wait_minutes=wait_minutes(place.expected_wait_seconds),
            )
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
            result = cast(
                CursorResult[Any],
                await session.execute(
                    update(Ticket)
                    .where(
                        Ticket.id == ticket_id,
                        Ticket.told_position.is_not_distinct_from(was_position),
                        Ticket.told_at.is_not_distinct_from(was_at),
                    )
                    .values(told_position=new.position if new else None, told_at=new.at if new else None)
                    .execution_options(synchronize_session=False)
                ),
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


async def notify_agent_joined(
    channel: CustomerChannel, texts: NoticeTexts, ticket: Ticket, agent_display_name: str
) -> bool:
    """Best effort: the claim stands even when the customer cannot be told."""
    text = texts.render("agent_joined", ticket.language, agent_name=agent_display_name)
    try:
        await channel.notify(ticket.conversation_id, text)
        return True
    except ChannelError as exc:
        log.warning("agent-joined notice for %s not delivered: %s", ticket.number, exc)
        return False
