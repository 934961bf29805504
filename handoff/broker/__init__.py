"""Edges that follow Rasa's event broker and feed ``handoff.services.consumer``.

``make_consumer`` picks the source from the settings: ``sql`` follows the
``events`` table of Rasa's SQL broker (``SqlEventSource``), ``rabbitmq``
consumes Rasa's pika broker queue (``RabbitMQEventSource``), ``off``
follows nothing. Each owns its sessions (one transaction per batch or
message) and publishes live updates after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import LiveBus
from handoff.services.channel import CustomerChannel
from handoff.settings import Settings

__all__ = ["EventSource", "ConsumerTask", "make_consumer", "EVENT_SOURCES"]

log = logging.getLogger("handoff.broker")

EVENT_SOURCES = ("sql", "rabbitmq", "off")


class EventSource(Protocol):
    async def run(self) -> None:
        """Follow the broker until cancelled."""


def make_consumer(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: LiveBus,
    channel: CustomerChannel | None = None,
) -> EventSource | None:
    """The follower for ``settings.events_source``; None when it is ``off``.
    ``channel`` gives a customer who cancelled in the queue back to the bot."""
    if settings.events_source == "sql":
        from handoff.broker.sql import SqlEventSource

        return SqlEventSource(events_url=settings.rasa_events_url, sessionmaker=sessionmaker, bus=bus, channel=channel)
    if settings.events_source == "rabbitmq":
        from handoff.broker.rabbitmq import RabbitMQEventSource

        return RabbitMQEventSource(
            url=settings.rabbitmq_url,
            queue=settings.rabbitmq_queue,
            exchange=settings.rabbitmq_exchange,
            sessionmaker=sessionmaker,
            bus=bus,
            channel=channel,
        )
    return None


class ConsumerTask:
    """A follower running as a background task of the current event loop."""

    def __init__(self, source: EventSource) -> None:
        self.source = source
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.source.run(), name="handoff-event-consumer")
        self._task.add_done_callback(self._report)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Cancel and wait: an open transaction rolls back, an unacknowledged
        message goes back to its queue."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    @staticmethod
    def _report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("event consumer stopped", exc_info=task.exception())
