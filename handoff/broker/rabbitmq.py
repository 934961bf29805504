"""Follows Rasa's RabbitMQ event broker (``event_broker: {type: pika, …}``).

Rasa 3.6 (rasa/core/brokers/pika.py) declares a fanout exchange
``rasa-exchange`` (not durable), declares each configured queue durable
(default ``rasa_core_events``), binds it with routing key "" and publishes
each event as a persistent message whose body is the event's JSON. The
follower declares the same exchange, queue and binding (so events are kept
while the service is down, whichever starts first), consumes with manual
acknowledgement and acknowledges a message only after the transaction that
stored it has committed. Messages that are already waiting when one is
taken (up to ``prefetch``) are stored in the same transaction, in the
order received, and acknowledged after its commit: under load one commit
serves many messages, and a lone message is handled at once. A batch the
database refuses an event of is stored again with a savepoint per event,
which leaves out only that event (``handoff.broker.common.apply_events``).
A redelivered message is dropped by its event key; an unreadable one is
logged and acknowledged, so it never blocks the queue.
``connect_robust`` reconnects and resumes consuming when RabbitMQ restarts.
"""

from __future__ import annotations

import asyncio
import logging

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.broker.common import REFUSED, Backoff, after_commit, apply_events
from handoff.live_bus import LiveBus, LiveUpdate
from handoff.services.channel import CustomerChannel
from handoff.services.consumer import BrokerEvent, MalformedEvent, parse_event

__all__ = ["RabbitMQEventSource", "RASA_EXCHANGE"]

log = logging.getLogger("handoff.broker.rabbitmq")

RASA_EXCHANGE = "rasa-exchange"


class RabbitMQEventSource:
    def __init__(
        self,
        *,
        url: str,
        queue: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: LiveBus,
        channel: CustomerChannel | None = None,
        exchange: str = RASA_EXCHANGE,
        prefetch: int = 50,
        backoff: Backoff | None = None,
        connection_name: str = "handoff-event-consumer",
    ) -> None:
        self.url = url
        self.queue = queue
        self.exchange = exchange
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.channel = channel
        self.prefetch = prefetch
        self.backoff = backoff or Backoff()
        self.connection_name = connection_name  # shown by RabbitMQ's management tools
        self.handled = 0  # messages acknowledged (or given up on) since start

    async def run(self) -> None:
        """Follow until cancelled; a broker that cannot be reached is retried with backoff."""
        connect = Backoff(self.backoff.first, self.backoff.maximum)
        while True:
            try:
                connection = await aio_pika.connect_robust(
                    self.url, client_properties={"connection_name": self.connection_name}
                )
            except Exception as exc:
                if connect.failures == 0:
                    log.warning("cannot reach RabbitMQ, retrying with backoff: %r", exc)
                await connect.wait()
                continue
            connect.reset()
            try:
                await self._consume(connection)
            except Exception:
                log.exception("RabbitMQ consumer stopped; reconnecting")
            finally:
                await connection.close()
            await connect.wait()

    async def _consume(self, connection: AbstractRobustConnection) -> None:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        exchange = await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self.queue, durable=True)
        await queue.bind(exchange, "")
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(inbox.put)  # restored by the robust channel after a reconnect
        log.info("following Rasa's RabbitMQ event broker (queue %s, exchange %s)", self.queue, self.exchange)
        while True:
            batch = [await inbox.get()]
            while len(batch) < self.prefetch and not inbox.empty():
                batch.append(inbox.get_nowait())
            await self.handle_batch(batch)

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """Store, commit, then acknowledge one message."""
        await self.handle_batch([message])

    async def handle_batch(self, messages: list[AbstractIncomingMessage]) -> None:
        """Store the messages in one transaction, commit, then acknowledge
        each, in the order received."""
        events: list[BrokerEvent] = []
        for message in messages:
            try:
                events.append(parse_event(message.body))
            except MalformedEvent as exc:
                log.warning("skipped message %s on %s: %s", message.delivery_tag, self.queue, exc)
        if events:
            applied = [(event, update) for event, update in await self._store(events) if update is not None]
            if applied:
                await after_commit(self.bus, self.channel, applied)
        for message in messages:
            try:
                await message.ack()
            except Exception as exc:
                # the channel went away: RabbitMQ redelivers it, the key drops the copy
                log.info("could not acknowledge message %s (%r); it will be redelivered", message.delivery_tag, exc)
            self.handled += 1

    async def _store(self, events: list[BrokerEvent]) -> list[tuple[BrokerEvent, LiveUpdate | None]]:
        """One transaction for the batch (``apply_events``: again ``careful``ly
        after the database refused an event), retried while the database is down."""
        careful = False
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    updates = await apply_events(session, events, careful=careful)
            except Exception as exc:
                if isinstance(exc, REFUSED) and not careful:
                    careful = True  # at once: the refused event is skipped, the others stored
                    continue
                if self.backoff.failures == 0:
                    log.warning("event consumer cannot store an event, retrying with backoff: %r", exc, exc_info=True)
                await self.backoff.wait()
                continue
            if self.backoff.failures:
                log.info("event consumer recovered after %d failure(s)", self.backoff.failures)
                self.backoff.reset()
            return updates
