"""The console's live bus: updates about tickets, published by whoever
changed them, delivered to every open console (``GET /api/v1/live``).

Not Rasa's events: those are read from Rasa's event broker by
``handoff/broker/`` and stored as ``ConversationEvent`` rows. An update
here is a ``LiveUpdate`` (``ticket.queued``, ``message.new``, ...).

``LiveBus`` is the interface. ``InMemoryLiveBus`` serves one process (the
SQLite default). ``PostgresLiveBus`` carries every update through
PostgreSQL ``LISTEN``/``NOTIFY``, so a console connected to any replica of
the service, and a separate ``follow`` worker, see the same updates; the
database the replicas already share is the only thing it needs.
``make_live_bus(settings)`` picks one (``HANDOFF_LIVE_BUS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypedDict, cast

if TYPE_CHECKING:
    from handoff.settings import Settings

__all__ = [
    "LiveUpdate",
    "LiveBus",
    "InMemoryLiveBus",
    "PostgresLiveBus",
    "Subscription",
    "make_live_bus",
    "RESYNC",
    "SESSION_ENDED",
]

log = logging.getLogger("handoff.live")

# Sent to local subscribers when updates may have been missed (the
# connection to PostgreSQL was lost and came back): consoles reload.
RESYNC = "live.resync"
# An agent logged out: that agent's streams on every replica end (api/live.py).
SESSION_ENDED = "session.ended"


class LiveUpdate(TypedDict, total=False):
    """One update for the consoles."""

    # ticket.queued | ticket.claimed | ticket.closed | ticket.transferred | message.new
    # | message.delivered (the relay took an agent's e-mail reply: handoff.mail.worker)
    type: str
    ticket_number: str
    department: str
    assignee_id: int | None
    sender: str
    from_department: str  # ticket.transferred
    reason: str  # ticket.closed by the customer: cancelled | silent
    agent_id: int  # session.ended


class Subscription:
    def __init__(self, maxsize: int = 1000) -> None:
        self.queue: asyncio.Queue[LiveUpdate] = asyncio.Queue(maxsize=maxsize)

    async def get(self, timeout: float | None = None) -> LiveUpdate | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            return None


class LiveBus(ABC):
    @abstractmethod
    async def publish(self, update: LiveUpdate) -> None: ...

    @abstractmethod
    def subscribe(self) -> Any:
        """An async context manager yielding a ``Subscription``."""

    async def start(self) -> None:  # noqa: B027 - a hook: the in-process bus connects nothing
        """Connect whatever the bus needs (nothing for the in-process bus)."""

    async def close(self) -> None:  # noqa: B027 - a hook: the in-process bus holds nothing
        """Release connections."""


class InMemoryLiveBus(LiveBus):
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    async def publish(self, update: LiveUpdate) -> None:
        self.deliver(update)

    def deliver(self, update: LiveUpdate) -> None:
        for sub in list(self._subscribers):
            # a stalled console misses updates and reloads its queue
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(update)

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


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy's form) as a plain libpq URL."""
    from sqlalchemy.engine import make_url

    from handoff.db import normalise_url

    return make_url(normalise_url(database_url)).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLiveBus(LiveBus):
    """Every replica ``LISTEN``s on one channel; ``publish`` is a ``NOTIFY``.

    Events reach this process's own subscribers through PostgreSQL too, so
    every console sees one order whatever replica published. A lost
    listening connection is reopened in the background; consoles then get a
    ``live.resync`` update and reload, since updates sent meanwhile are gone
    (NOTIFY is not stored). Publishing never fails a request whose work is
    already committed: if PostgreSQL cannot take the NOTIFY, the update goes
    to this replica's consoles only and the failure is logged.
    """

    MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more

    def __init__(self, dsn: str, channel: str = "handoff_live", *, retry_seconds: float = 1.0) -> None:
        self._dsn = dsn
        self._channel = channel
        self._retry = retry_seconds
        self._local = InMemoryLiveBus()
        self._listener: Any = None
        self._publisher: Any = None
        self._publish_lock = asyncio.Lock()
        self._lost = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        await self._listen()
        self._watch = asyncio.create_task(self._keep_listening())

    async def close(self) -> None:
        self._closing = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for conn in (self._listener, self._publisher):
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
        self._listener = self._publisher = None

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    def subscribe(self) -> Any:
        return self._local.subscribe()

    async def publish(self, update: LiveUpdate) -> None:
        payload = json.dumps(update, separators=(",", ":"), default=str)
        if len(payload.encode()) > self.MAX_PAYLOAD:
            log.warning("live update %s too large for NOTIFY; sent to this replica only", update.get("type"))
            self._local.deliver(update)
            return
        try:
            async with self._publish_lock:
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await self._connect()
                await self._publisher.execute("SELECT pg_notify($1, $2)", self._channel, payload)
        except Exception as exc:
            log.warning("live update %s not sent through PostgreSQL (%s); this replica only", update.get("type"), exc)
            self._publisher = None
            self._local.deliver(update)

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self._dsn, timeout=5)

    async def _listen(self) -> None:
        conn = await self._connect()
        conn.add_termination_listener(lambda _conn: self._lost.set())
        await conn.add_listener(self._channel, self._on_notify)
        self._listener = conn
        self._lost.clear()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            update = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed live update on %s", self._channel)
            return
        if isinstance(update, dict):
            self._local.deliver(cast(LiveUpdate, update))  # a peer replica's own LiveUpdate

    async def _keep_listening(self) -> None:
        """Reopen the listening connection whenever it drops."""
        while not self._closing:
            await self._lost.wait()
            if self._closing:
                return
            log.warning("lost the live-update connection to PostgreSQL; reconnecting")
            while not self._closing:
                try:
                    await self._listen()
                    break
                except Exception as exc:
                    log.warning("live-update reconnect failed: %s", exc)
                    await asyncio.sleep(self._retry)
            self._local.deliver({"type": RESYNC})


def make_live_bus(settings: Settings) -> LiveBus:
    """``HANDOFF_LIVE_BUS``: postgres, memory, or auto (postgres on a
    PostgreSQL database, memory on SQLite, which serves one process)."""
    from handoff.db import is_sqlite, normalise_url

    choice = settings.live_bus
    if choice == "auto":
        choice = "memory" if is_sqlite(normalise_url(settings.database_url)) else "postgres"
    if choice == "postgres":
        return PostgresLiveBus(asyncpg_dsn(settings.database_url), settings.live_channel)
    return InMemoryLiveBus()
