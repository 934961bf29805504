"""Pieces shared by the broker followers: one event in a savepoint, backoff."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.db import hold_transaction
from handoff.live_bus import LiveBus, LiveUpdate
from handoff.services.abandon import CANCELLED
from handoff.services.channel import ChannelError, CustomerChannel
from handoff.services.consumer import BrokerEvent, record_event
from support_rules.conversations import conversation_ref
from support_rules.tickets import CANCELLED_INTENT

__all__ = ["Applied", "Backoff", "REFUSED", "apply_event", "apply_events", "after_commit", "publish_all"]

# an event and the live update it produced
Applied = tuple[BrokerEvent, LiveUpdate]

log = logging.getLogger("handoff.broker")


# what the database refuses an event with: the event is skipped (a batch
# stored without savepoints is stored again carefully)
REFUSED = (DataError, IntegrityError)


async def apply_events(
    session: AsyncSession, events: list[BrokerEvent], *, careful: bool
) -> list[tuple[BrokerEvent, LiveUpdate | None]]:
    """Every event of a batch in the session's transaction, in order. Not
    ``careful``: no savepoint per event (two statements fewer per stored
    line), and an event the database refuses fails the whole batch with
    ``REFUSED``; the caller rolls back and stores the batch again
    ``careful``ly, where ``apply_event`` skips just that event (inside a
    real transaction: on SQLite a savepoint opened outside one would commit
    its event on its own, ``hold_transaction``)."""
    if careful:
        await hold_transaction(session)
        return [(event, await apply_event(session, event)) for event in events]
    return [(event, await record_event(session=session, event=event)) for event in events]


async def apply_event(session: AsyncSession, event: BrokerEvent) -> LiveUpdate | None:
    """``record_event`` in a savepoint: an event the database refuses (bad
    data, a ticket purged meanwhile) is logged and skipped, never retried
    forever. Other errors (database down) go up to the caller's retry."""
    try:
        async with session.begin_nested():
            return await record_event(session=session, event=event)
    except REFUSED as exc:
        ref = conversation_ref(event.conversation_id)
        log.warning("skipped event %s of conversation %s: %s", event.key[:12], ref, exc.orig)
        return None


async def publish_all(bus: LiveBus, updates: list[LiveUpdate]) -> None:
    """Live updates after the commit; a failing bus never stops a follower."""
    for update in updates:
        try:
            await bus.publish(update)
        except Exception:
            log.exception("could not publish %s", update.get("type"))


async def after_commit(bus: LiveBus, channel: CustomerChannel | None, applied: list[Applied]) -> None:
    """What follows a committed batch: consoles hear of every update, and a
    customer who cancelled while queued gets the bot back, which says so.
    A customer channel that is down is logged: the ticket is closed anyway,
    and the bot answers the customer's next message."""
    await publish_all(bus, [update for _, update in applied])
    if channel is None:
        return
    for event, update in applied:
        if update.get("type") == "ticket.closed" and update.get("reason") == CANCELLED:
            try:
                await channel.hand_back(event.conversation_id, intent=CANCELLED_INTENT)
            except ChannelError as exc:
                log.warning(
                    "cancelled ticket %s: the bot could not take the conversation back: %s",
                    update.get("ticket_number"),
                    exc,
                )


class Backoff:
    """Exponential delays between retries: first, 2×first, … up to maximum."""

    def __init__(self, first: float = 0.5, maximum: float = 30.0) -> None:
        self.first = first
        self.maximum = maximum
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    @property
    def delay(self) -> float:
        return min(self.maximum, self.first * 2 ** max(self.failures - 1, 0))

    async def wait(self) -> None:
        self.failures += 1
        await asyncio.sleep(self.delay)
