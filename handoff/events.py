"""Live updates for the console: an in-process publish/subscribe bus.

``EventBus`` is the interface; ``InMemoryEventBus`` serves one replica. A
PostgreSQL LISTEN/NOTIFY or Redis implementation can replace it for several
replicas without touching the publishers or the SSE endpoint.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

__all__ = ["Event", "EventBus", "InMemoryEventBus", "Subscription"]


class Event(TypedDict, total=False):
    type: str  # ticket.queued | ticket.claimed | ticket.closed | ticket.transferred | message.new
    ticket_number: str
    department: str
    assignee_id: int | None
    sender: str


class Subscription:
    def __init__(self, maxsize: int = 1000) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)

    async def get(self, timeout: float | None = None) -> Event | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None


class EventBus(ABC):
    @abstractmethod
    async def publish(self, event: Event) -> None: ...

    @abstractmethod
    def subscribe(self) -> Any:
        """An async context manager yielding a ``Subscription``."""


class InMemoryEventBus(EventBus):
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    async def publish(self, event: Event) -> None:
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                pass  # a stalled console misses updates and reloads its queue

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription()
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
