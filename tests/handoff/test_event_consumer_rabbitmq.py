"""Following Rasa's RabbitMQ event broker, against the real RabbitMQ on
127.0.0.1:5672 (``HANDOFF_TEST_AMQP_URL``). Each test uses its own exchange
and queue and deletes them afterwards. Events are published as Rasa 3.6's
PikaEventBroker publishes them (rasa/core/brokers/pika.py)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.broker import ConsumerTask, make_consumer
from handoff.broker.common import Backoff
from handoff.broker.rabbitmq import RabbitMQEventSource
from handoff.live_bus import InMemoryLiveBus
from handoff.services.consumer import parse_event, record_event
from tests.handoff.conftest import Collected, Seed
from tests.handoff.helpers import _true, make_settings, until
from tests.handoff.rasa_events import (
    T0,
    bot_event,
    customer_line_update,
    open_ticket,
    other_events,
    refusing_line,
    ticket_messages,
    transcript,
    user_event,
)

AMQP_URL = os.environ.get("HANDOFF_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


@dataclass
class Rabbit:
    """Rasa's side: the exchange and queue declared as PikaEventBroker does."""

    connection: aio_pika.abc.AbstractRobustConnection
    channel: aio_pika.abc.AbstractChannel
    exchange: aio_pika.abc.AbstractExchange
    exchange_name: str
    queue_name: str

    async def publish(self, event: dict[str, Any]) -> None:
        # PikaEventBroker._message: json.dumps(event), persistent, app_id from RASA_ENVIRONMENT
        await self.publish_raw(bytes(json.dumps(event), "utf-8"))

    async def publish_raw(self, body: bytes) -> None:
        message = aio_pika.Message(body, headers=None, app_id=None, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await self.exchange.publish(message, "")

    async def waiting(self) -> int:
        """Messages ready in the queue (not delivered, or given back unacknowledged)."""
        # a plain connection: a robust channel answers a declaration from its cache
        connection = await aio_pika.connect(AMQP_URL)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.queue_name, passive=True)
            assert queue.declaration_result.message_count is not None
            return queue.declaration_result.message_count
        finally:
            await connection.close()


@pytest.fixture
async def rabbit() -> AsyncIterator[Rabbit]:
    suffix = uuid.uuid4().hex[:10]
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel()
    # PikaEventBroker._set_up_exchange and _bind_queue
    exchange = await channel.declare_exchange(f"test-rasa-exchange-{suffix}", type=aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(f"test_rasa_core_events_{suffix}", durable=True)
    await queue.bind(exchange, "")
    try:
        yield Rabbit(connection, channel, exchange, exchange.name, queue.name)
    finally:
        await channel.queue_delete(queue.name)
        await channel.exchange_delete(exchange.name)
        await connection.close()


def follower(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, url: str = AMQP_URL, **kw: Any
) -> RabbitMQEventSource:
    return RabbitMQEventSource(
        url=url,
        queue=rabbit.queue_name,
        exchange=rabbit.exchange_name,
        sessionmaker=sessionmaker,
        bus=bus,
        backoff=Backoff(0.02, 0.2),
        **kw,
    )


async def test_processes_and_acknowledges(
    rabbit: Rabbit,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    ticket = await open_ticket(sessionmaker, "rmq-1", claimed_by=seed.agents["fin"])
    for event in other_events("rmq-bot", T0):
        await rabbit.publish(event)
    await rabbit.publish(user_event("rmq-bot", "fatura nerede?", T0 + 1))
    await rabbit.publish(bot_event("rmq-bot", "Faturalar sayfasında.", T0 + 2))
    await rabbit.publish(user_event("rmq-1", "bekliyorum", T0 + 3))
    src = follower(rabbit, sessionmaker, bus)
    task = ConsumerTask(src)
    task.start()
    await until(lambda: _true(src.handled == 7))
    await task.stop()

    assert await rabbit.waiting() == 0  # every message acknowledged, none given back
    assert [(line.kind, line.text) for line in await transcript(sessionmaker, "rmq-bot")] == [
        ("customer", "fatura nerede?"),
        ("bot", "Faturalar sayfasında."),
    ]
    assert (await ticket_messages(sessionmaker, ticket))[-1].text == "bekliyorum"
    assert collected.events == [customer_line_update(ticket, seed.agents["fin"].id)]


async def test_same_body_twice_is_stored_once(
    rabbit: Rabbit,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    ticket = await open_ticket(sessionmaker, "rmq-dup")  # queued, not claimed yet
    event = user_event("rmq-dup", "iki kez", T0 + 1)
    await rabbit.publish(event)
    await rabbit.publish(event)
    src = follower(rabbit, sessionmaker, bus)
    task = ConsumerTask(src)
    task.start()
    await until(lambda: _true(src.handled == 2))
    await task.stop()

    assert [line.text for line in await transcript(sessionmaker, "rmq-dup")] == ["iki kez"]
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)].count("iki kez") == 1
    assert len(collected.events) == 1 and collected.events[0]["assignee_id"] is None
    assert await rabbit.waiting() == 0


async def test_message_not_acknowledged_before_a_crash_is_redelivered_and_stored_once(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, seed: Seed
) -> None:
    ticket = await open_ticket(sessionmaker, "rmq-crash")
    await rabbit.publish(user_event("rmq-crash", "kayboldu mu?", T0 + 1))
    # a consumer that committed the event and died before its ack
    crashed = await aio_pika.connect_robust(AMQP_URL)
    channel = await crashed.channel()
    queue = await channel.declare_queue(rabbit.queue_name, durable=True)
    message = await queue.get(no_ack=False, timeout=5)
    assert message is not None
    async with sessionmaker() as session, session.begin():
        await record_event(session=session, event=parse_event(message.body))
    await crashed.close()  # RabbitMQ gives the unacknowledged message back

    src = follower(rabbit, sessionmaker, bus)
    redelivered: list[bool] = []
    handle = src.handle_batch

    async def spy(messages: list[aio_pika.abc.AbstractIncomingMessage]) -> None:
        redelivered.extend(bool(message.redelivered) for message in messages)
        await handle(messages)

    src.handle_batch = spy  # type: ignore[method-assign]
    task = ConsumerTask(src)
    task.start()
    await until(lambda: _true(src.handled == 1))
    await task.stop()
    assert redelivered == [True]
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)].count("kayboldu mu?") == 1
    assert len(await transcript(sessionmaker, "rmq-crash")) == 1
    assert await rabbit.waiting() == 0


async def test_waiting_messages_share_a_commit_and_keep_their_order(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, seed: Seed
) -> None:
    from sqlalchemy import event as sa_event

    ticket = await open_ticket(sessionmaker, "rmq-batch")
    texts = [f"sıradaki mesaj {i}" if i % 2 else f"queued message {i}" for i in range(30)]
    events = [user_event("rmq-batch", text, T0 + 1 + i) for i, text in enumerate(texts)]
    for event in events:
        await rabbit.publish(event)
    await rabbit.publish(events[3])  # the same event again (a redelivery): stored once
    await rabbit.publish_raw(b"{not json")
    commits: list[int] = []
    engine = sessionmaker.kw["bind"].sync_engine

    def committed(_conn: Any) -> None:
        commits.append(1)

    sa_event.listen(engine, "commit", committed)
    src = follower(rabbit, sessionmaker, bus)
    task = ConsumerTask(src)
    task.start()
    await until(lambda: _true(src.handled == 32))
    await task.stop()
    sa_event.remove(engine, "commit", committed)
    assert await rabbit.waiting() == 0  # every message acknowledged
    assert [line.text for line in await transcript(sessionmaker, "rmq-batch")] == texts
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)][-30:] == texts
    assert len(commits) < 32  # messages already waiting went in together


async def test_a_line_the_database_refuses_is_acknowledged_and_skipped_alone(
    rabbit: Rabbit, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    """Waiting messages are stored without a savepoint each; when the
    database refuses one they are stored again one by one, and only that
    line is left out."""
    async with refusing_line(engine, "refuse me"):
        for i, text in enumerate(["önce", "refuse me", "sonra"]):
            await rabbit.publish(user_event("rmq-refused", text, T0 + i))
        src = follower(rabbit, sessionmaker, bus)
        task = ConsumerTask(src)
        task.start()
        await until(lambda: _true(src.handled == 3))
        assert task.running
        await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "rmq-refused")] == ["önce", "sonra"]
    assert await rabbit.waiting() == 0


async def test_malformed_messages_are_acknowledged_and_skipped(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    await rabbit.publish_raw(b"{not json")
    await rabbit.publish_raw(b"\xff\xfe")
    await rabbit.publish_raw(json.dumps({"event": "user", "text": "no sender", "timestamp": T0}).encode())
    await rabbit.publish(user_event("rmq-ok", "sonraki", T0 + 1))
    src = follower(rabbit, sessionmaker, bus)
    task = ConsumerTask(src)
    task.start()
    await until(lambda: _true(src.handled == 4))
    assert task.running
    await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "rmq-ok")] == ["sonraki"]
    assert await rabbit.waiting() == 0


async def test_events_published_while_the_consumer_is_down_wait_in_the_queue(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    src = follower(rabbit, sessionmaker, bus)
    first = ConsumerTask(src)
    first.start()
    await rabbit.publish(user_event("rmq-restart", "bir", T0 + 1))
    await until(lambda: _true(src.handled == 1))
    await first.stop()
    await rabbit.publish(user_event("rmq-restart", "iki", T0 + 2))
    assert await rabbit.waiting() == 1  # kept by the durable queue
    again = follower(rabbit, sessionmaker, bus)
    second = ConsumerTask(again)
    second.start()
    await until(lambda: _true(again.handled == 1))
    await second.stop()
    assert [line.text for line in await transcript(sessionmaker, "rmq-restart")] == ["bir", "iki"]


def _close_connection(name: str) -> bool:
    """Close one connection, found by its name, from RabbitMQ's side (as a restart does)."""
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True,
        text=True,
        check=True,
    )
    pids = [line.split("\t", 1)[0] for line in listing.stdout.splitlines() if name in line]
    for pid in pids:
        subprocess.run(
            ["rabbitmqctl", "-q", "close_connection", pid, "test: broker restart"], capture_output=True, check=True
        )
    return bool(pids)


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on this machine")
async def test_reconnects_when_the_broker_drops_the_connection(
    rabbit: Rabbit, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    name = f"handoff-test-{uuid.uuid4().hex[:8]}"
    src = follower(rabbit, sessionmaker, bus, url=AMQP_URL + "?reconnect_interval=0.2", connection_name=name)
    task = ConsumerTask(src)
    task.start()
    await rabbit.publish(user_event("rmq-reconnect", "önce", T0 + 1))
    await until(lambda: _true(src.handled == 1))
    assert await asyncio.to_thread(_close_connection, name)
    await rabbit.publish(user_event("rmq-reconnect", "sonra", T0 + 2))
    await until(lambda: _true(src.handled == 2), timeout=15)
    assert task.running
    await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "rmq-reconnect")] == ["önce", "sonra"]
    assert await rabbit.waiting() == 0


async def test_unreachable_broker_is_retried(
    sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    src = RabbitMQEventSource(
        url="amqp://guest:guest@127.0.0.1:1/",
        queue="unused",
        sessionmaker=sessionmaker,
        bus=bus,
        backoff=Backoff(0.02, 0.05),
    )
    task = ConsumerTask(src)
    task.start()
    await asyncio.sleep(0.5)
    assert task.running  # still trying, not crashed
    await task.stop()
    assert not task.running


def test_settings_pick_the_source() -> None:
    live = InMemoryLiveBus()
    rabbit = make_consumer(
        make_settings("sqlite://", events_source="rabbitmq", rabbitmq_queue="q1"), sessionmaker=None, bus=live
    )
    assert isinstance(rabbit, RabbitMQEventSource) and (rabbit.queue, rabbit.exchange) == ("q1", "rasa-exchange")
    assert make_consumer(make_settings("sqlite://", events_source="off"), sessionmaker=None, bus=live) is None
