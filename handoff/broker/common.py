"""Pieces shared by the broker followers: one event in a savepoint, backoff."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.events import Event, EventBus
from handoff.services.consumer import BrokerEvent, record_event

__all__ = ["Backoff", "apply_event", "publish_all"]

log = logging.getLogger("handoff.broker")


async def apply_event(session: AsyncSession, event: BrokerEvent) -> Event | None:
    """``record_event`` in a savepoint: an event the database refuses (bad
    data, a ticket purged meanwhile) is logged and skipped, never retried
    forever. Other errors (database down) go up to the caller's retry."""
    try:
        async with session.begin_nested():
            return await record_event(session=session, event=event)
    except (DataError, IntegrityError) as exc:
        log.warning("skipped event %s of conversation %s: %s", event.key[:12], event.conversation_id, exc.orig)
        return None


async def publish_all(bus: EventBus, notices: list[Event]) -> None:
    """Live updates after the commit; a failing bus never stops a follower."""
    for notice in notices:
        try:
            await bus.publish(notice)
        except Exception:  # noqa: BLE001
            log.exception("could not publish %s", notice.get("type"))


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
