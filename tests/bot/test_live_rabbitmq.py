"""The relay with RabbitMQ as the event broker: Rasa publishes with its pika
broker to the RabbitMQ on this machine (a queue of this run's own), the
handoff service consumes from it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aio_pika
import pytest

from stack.live import LiveStack, ticket_number_in, wait_for


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[LiveStack]:
    running = LiveStack(tmp_path_factory.mktemp("rabbit"), broker="rabbitmq")
    try:
        running.start()
        yield running
    finally:
        running.stop()
        asyncio.run(_delete_queue(running.rabbitmq_queue))


async def _delete_queue(name: str) -> None:
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def test_customer_messages_reach_the_agent_through_rabbitmq(assistant: LiveStack) -> None:
    sender = "rabbit-en"
    for text in ("hello", "May 4, 1990", "I want to talk to a human agent", "withdrawl", "last friday", "john_doe99"):
        assistant.say(sender, text)
    number = ticket_number_in(assistant.say(sender, "yes"))
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
    assert assistant.say(sender, "is anyone there?") == []
    wait_for(lambda: ("customer", "is anyone there?") in assistant.transcript("agent_finance", number))
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/reply", {"text": "Yes, I'm here."})
    wait_for(lambda: any(e.get("text") == "Yes, I'm here." for e in assistant.bot_events(sender)))
    lines = assistant.transcript("agent_finance", number)
    assert lines.count(("customer", "is anyone there?")) == 1 and lines.count(("agent", "Yes, I'm here.")) == 1
