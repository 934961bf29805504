"""A customer who leaves the queue: cancelling while queued (the consumer
sees their ``cancel`` intent), or silent longer than
HANDOFF_ABANDON_AFTER_SECONDS (the queue notifier's pass). The bot's old
``/messages`` and ``/abandon`` endpoints are gone."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.broker.common import after_commit
from handoff.live_bus import InMemoryLiveBus, LiveUpdate
from handoff.models import AuditEntry, Ticket
from handoff.notice_texts import load_notice_texts
from handoff.repo.audit import list_audit
from handoff.repo.tickets import get_ticket
from handoff.services import handoffs
from handoff.services import tickets as tickets_svc
from handoff.services.abandon import CANCELLED
from handoff.services.channel import ChannelError, RecordingChannel
from handoff.services.consumer import parse_event, record_event
from handoff.services.queue_notices import QueueNotifier
from handoff.services.queue_positions import QueueRules, queued_places
from handoff.settings import REPO_ROOT, load_settings
from support_rules.tickets import HANDBACK_INTENT
from tests.handoff.conftest import Collected, Running, Seed
from tests.handoff.customer_lines import customer_writes
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, live_events, login, next_event, status_headers
from tests.handoff.rasa_events import T0, VALIDATOR, open_ticket, ticket_messages, user_event
from tests.handoff.test_api_agents import new_ticket

Maker: TypeAlias = async_sessionmaker[AsyncSession]
RULES = QueueRules()
DAY = 86400


async def _reload(sessionmaker: Maker, ticket: Ticket) -> Ticket:
    async with sessionmaker() as s:
        found = await get_ticket(session=s, ticket_id=ticket.id)
    assert found is not None
    return found


async def _audit(sessionmaker: Maker, ticket: Ticket) -> list[AuditEntry]:
    async with sessionmaker() as s:
        return await list_audit(session=s, ticket_id=ticket.id, action="abandon")


async def _record(sessionmaker: Maker, raw: dict[str, Any]) -> dict[str, Any] | None:
    async with sessionmaker() as s, s.begin():
        update = await record_event(session=s, event=parse_event(raw))
    return dict(update) if update is not None else None


# cancelling while queued --------------------------------------------------------


async def test_a_cancel_while_queued_abandons_the_ticket_once(sessionmaker: Maker, seed: Seed) -> None:
    ticket = await open_ticket(sessionmaker, "conv-cancel")
    cancel = user_event("conv-cancel", "vazgeçtim", T0 + 60, intent="cancel")
    update = await _record(sessionmaker, cancel)
    assert update == {
        "type": "ticket.closed",
        "ticket_number": ticket.number,
        "department": "finance",
        "assignee_id": None,
        "reason": "cancelled",
    }
    closed = await _reload(sessionmaker, ticket)
    assert closed.status == "abandoned" and closed.abandoned_at is not None and closed.closed_at == closed.abandoned_at
    assert [m.text for m in await ticket_messages(sessionmaker, ticket)][-1] == "vazgeçtim"  # the agent can read why
    [entry] = await _audit(sessionmaker, ticket)
    assert (entry.actor, entry.agent_id, entry.detail) == ("customer", None, {"reason": "cancelled"})
    async with sessionmaker() as s:
        assert await queued_places(session=s, rules=RULES, now=datetime.now(timezone.utc)) == []
        status = await handoffs.ticket_status(session=s, number=ticket.number, rules=RULES)
    assert (status["status"], status["queue_position"]) == ("abandoned", None)

    assert await _record(sessionmaker, cancel) is None  # redelivered: nothing more
    assert len(await _audit(sessionmaker, ticket)) == 1


async def test_a_long_or_unsure_cancel_is_a_message_for_the_agent(sessionmaker: Maker, seed: Seed) -> None:
    ticket = await open_ticket(sessionmaker, "conv-card")
    long_line = user_event(
        "conv-card", "kartımı iptal etmek istiyorum, çalındı", T0 + 60, intent="cancel", confidence=0.97
    )
    unsure = user_event("conv-card", "iptal mi", T0 + 61, intent="cancel", confidence=0.5)
    for line in (long_line, unsure):
        update = await _record(sessionmaker, line)
        assert update is not None and update["type"] == "message.new"
    assert (await _reload(sessionmaker, ticket)).status == "queued"
    assert await _audit(sessionmaker, ticket) == []


async def test_a_cancel_to_an_agent_or_before_the_handoff_closes_nothing(sessionmaker: Maker, seed: Seed) -> None:
    assigned = await open_ticket(sessionmaker, "conv-talking", claimed_by=seed.agents["fin"])
    update = await _record(sessionmaker, user_event("conv-talking", "iptal", T0 + 60, intent="cancel"))
    assert update is not None and update["type"] == "message.new"  # the agent decides
    assert (await _reload(sessionmaker, assigned)).status == "assigned"

    queued = await open_ticket(sessionmaker, "conv-earlier")
    # a cancel the summary already covers (the triage was cancelled, then resumed)
    assert await _record(sessionmaker, user_event("conv-earlier", "iptal", T0 - 60, intent="cancel")) is None
    # other intents leave the ticket queued
    update = await _record(sessionmaker, user_event("conv-earlier", "hâlâ bekliyorum", T0 + 60))
    assert update is not None and update["type"] == "message.new"
    assert (await _reload(sessionmaker, queued)).status == "queued"
    assert await _audit(sessionmaker, assigned) == [] and await _audit(sessionmaker, queued) == []


async def test_a_cancelled_ticket_leaves_the_consoles_live(server: Running, client: httpx.AsyncClient) -> None:
    fin = await login(client, "fin")
    async with live_events(client, fin) as events:
        number = await new_ticket(client, "finance", conversation_id="conv-cancelled")
        kind, _ = await next_event(events)
        assert kind == "ticket.queued"
        await customer_writes(server.app, number, "cancel", intent="cancel")
        kind, data = await next_event(events)
        assert (kind, data["ticket_number"]) == ("ticket.closed", number)
    queue = (await client.get("/api/v1/queue", headers=fin)).json()
    assert number not in [t["ticket_number"] for t in queue["queued"]]
    status = (await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("conv-cancelled"))).json()
    assert (status["status"], status["queue_position"]) == ("abandoned", None)
    # the bot takes the conversation back and tells the customer
    assert len(server.channel.cancelled) == 1 and server.channel.handed_back == []


async def test_a_customer_line_to_an_open_ticket_gives_nothing_back(server: Running, client: httpx.AsyncClient) -> None:
    number = await new_ticket(client, "finance")
    await customer_writes(server.app, number, "hala bekliyorum", intent="deposit_problem")
    assert server.channel.given_back == []


async def test_a_channel_that_is_down_does_not_stop_the_follower(caplog: pytest.LogCaptureFixture) -> None:
    class DownChannel(RecordingChannel):
        async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
            raise ChannelError("Rasa unreachable: ConnectError")

    bus = InMemoryLiveBus()
    event = parse_event(user_event("conv-down", "vazgeçtim", T0, intent="cancel"))
    update: LiveUpdate = {"type": "ticket.closed", "ticket_number": "T-000009", "reason": CANCELLED}
    await after_commit(bus, DownChannel(), [(event, update)])
    assert "could not take the conversation back" in caplog.text
    recording = RecordingChannel()
    await after_commit(bus, recording, [(event, update)])
    assert recording.cancelled == ["conv-down"]


async def test_the_bot_endpoints_without_a_caller_are_gone(client: httpx.AsyncClient) -> None:
    number = await new_ticket(client, "finance", conversation_id="conv-gone")
    msg = {"source_id": "e1", "sender": "customer", "text": "hello"}
    for tail, body in (("messages", msg), ("abandon", {})):
        res = await client.post(f"/api/v1/tickets/{number}/{tail}", json=body, headers=bot_headers())
        assert res.status_code in (404, 405), (tail, res.status_code)
    status = (await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("conv-gone"))).json()
    assert status["status"] == "queued"


# silent customers -----------------------------------------------------------------


async def _old_ticket(sessionmaker: Maker, label: str, created: datetime, priority: str = "normal") -> Ticket:
    data = summary("finance", priority=priority, conversation_id=f"conv-{label}", created_at=created.isoformat())
    for line in data["transcript"]:
        line["timestamp"] = created.isoformat()
    async with sessionmaker() as s, s.begin():
        result = await handoffs.create_handoff(
            session=s, summary=data, idempotency_key=label, validator=VALIDATOR, rules=RULES, now=created
        )
    return result.ticket


def _notifier(sessionmaker: Maker, bus: InMemoryLiveBus | None, abandon_after: int | None) -> QueueNotifier:
    return QueueNotifier(
        sessionmaker=sessionmaker,
        channel=RecordingChannel(),
        texts=load_notice_texts(REPO_ROOT / "data" / "notices.yml"),
        rules=RULES,
        interval_seconds=0,
        poll_seconds=1,
        abandon_after_seconds=abandon_after,
        bus=bus,
    )


async def test_silent_customers_are_abandoned_by_the_notifier(
    sessionmaker: Maker, seed: Seed, bus: InMemoryLiveBus, collected: Collected
) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    two_days = now - timedelta(days=2)
    silent = await _old_ticket(sessionmaker, "silent", two_days, priority="urgent")
    talking = await _old_ticket(sessionmaker, "talking", two_days)
    await _record(sessionmaker, user_event("conv-talking", "hâlâ bekliyorum", time.time() - 3600))
    fresh = await _old_ticket(sessionmaker, "fresh", now - timedelta(hours=1))
    with_agent = await _old_ticket(sessionmaker, "with-agent", two_days)
    async with sessionmaker() as s, s.begin():
        await tickets_svc.claim(session=s, agent=seed.agents["fin"], number=with_agent.number, now=two_days)

    assert await _notifier(sessionmaker, bus, None).tick(now) == []  # off: nothing is abandoned
    assert (await _reload(sessionmaker, silent)).status == "queued"

    notifier = _notifier(sessionmaker, bus, DAY)
    assert await notifier.abandon_silent(now) == [silent.number]
    assert {t.id: (await _reload(sessionmaker, t)).status for t in (silent, talking, fresh, with_agent)} == {
        silent.id: "abandoned",
        talking.id: "queued",
        fresh.id: "queued",
        with_agent.id: "assigned",
    }
    [entry] = await _audit(sessionmaker, silent)
    assert (entry.actor, entry.detail) == ("system", {"reason": "silent"})
    for _ in range(200):  # the pump task takes it off the bus
        if collected.events:
            break
        await asyncio.sleep(0.01)
    assert collected.events == [
        {
            "type": "ticket.closed",
            "ticket_number": silent.number,
            "department": "finance",
            "assignee_id": None,
            "reason": "silent",
        }
    ]
    # a second replica's pass finds nothing left to do
    assert await _notifier(sessionmaker, bus, DAY).abandon_silent(now) == []

    # the pass counts positions without the abandoned ticket
    await notifier.tick(now)
    async with sessionmaker() as s:
        told = dict((await s.execute(select(Ticket.id, Ticket.told_position).where(Ticket.status == "queued"))).all())
    assert told == {talking.id: 1, fresh.id: 2}

    # a day later the remaining ones have been silent long enough too
    assert sorted(await notifier.abandon_silent(now + timedelta(days=1))) == sorted([talking.number, fresh.number])


def test_the_abandon_age_is_a_setting() -> None:
    assert load_settings({}, require_secrets=False).abandon_after_seconds == DAY
    assert load_settings({"HANDOFF_ABANDON_AFTER_SECONDS": "600"}, require_secrets=False).abandon_after_seconds == 600
    assert load_settings({"HANDOFF_ABANDON_AFTER_SECONDS": "0"}, require_secrets=False).abandon_after_seconds == 0
