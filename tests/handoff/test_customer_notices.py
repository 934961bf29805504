"""Notices to the customer: agent joined, queue position (throttled), the
resolve, and what happens when Rasa cannot be reached."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from handoff.notice_texts import NoticeTextsError, load_notice_texts
from handoff.services.channel import ChannelError, CustomerChannel, RecordingChannel
from handoff.services.queue_notices import QueueNotifier, Told, plan_queue_notices
from handoff.services.queue_positions import QueueRules
from handoff.services.rasa_channel import RasaChannel
from handoff.settings import REPO_ROOT
from tests.handoff.conftest import Running
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, free_port, login

NOTICES = REPO_ROOT / "data" / "notices.yml"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


# the rule ---------------------------------------------------------------------


def test_a_ticket_seen_first_is_only_remembered() -> None:
    due, memory = plan_queue_notices({}, {1: 3}, T0, 60)
    assert due == [] and memory == {1: Told(3, T0)}


def test_moving_up_is_told_once_per_interval() -> None:
    told = {1: Told(3, T0)}
    assert plan_queue_notices(told, {1: 2}, T0 + timedelta(seconds=30), 60)[0] == []  # too soon
    due, memory = plan_queue_notices(told, {1: 2}, T0 + timedelta(seconds=61), 60)
    assert due == [1] and memory[1] == Told(2, T0 + timedelta(seconds=61))
    assert plan_queue_notices(memory, {1: 2}, T0 + timedelta(seconds=200), 60)[0] == []  # no change, no notice


def test_being_pushed_back_is_not_announced_and_closed_tickets_are_forgotten() -> None:
    due, memory = plan_queue_notices({1: Told(2, T0), 2: Told(1, T0)}, {1: 3}, T0 + timedelta(hours=1), 60)
    assert due == [] and memory == {1: Told(3, T0)}


# the texts --------------------------------------------------------------------


def test_every_notice_exists_in_turkish_and_english() -> None:
    texts = load_notice_texts(NOTICES)
    for key, values in (
        ("agent_joined", {"agent_name": "Ayşe"}),
        ("queue_position", {"queue_position": 2, "wait_minutes": 4}),
    ):
        tr, en = texts.render(key, "tr", **values), texts.render(key, "en", **values)
        assert tr != en and "{" not in tr + en
        assert all(str(v) in tr and str(v) in en for v in values.values())


def test_a_notices_file_without_a_language_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notices.yml"
    path.write_text("notices:\n  agent_joined: {tr: 'x'}\n  queue_position: {tr: 'y', en: 'z'}\n", encoding="utf-8")
    with pytest.raises(NoticeTextsError):
        load_notice_texts(path)


# in the service -----------------------------------------------------------------


async def _handoff(client: httpx.AsyncClient, conversation: str, language: str = "tr") -> str:
    body = summary("finance", conversation_id=conversation)
    body["language"] = language
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(f"k-{conversation}"))
    assert res.status_code == 201, res.text
    return res.json()["ticket_number"]


async def test_claiming_tells_the_customer_who_joined(server, client: httpx.AsyncClient) -> None:
    number = await _handoff(client, "conv-join", "tr")
    fin = await login(client, "fin")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
    assert server.channel.notices == [("conv-join", "Fatma Finans sohbete katıldı.")]


async def test_resolving_gives_the_conversation_back_as_resolved(server, client: httpx.AsyncClient) -> None:
    number = await _handoff(client, "conv-resolve", "en")
    fin = await login(client, "fin")
    await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)
    assert (
        await client.post(f"/api/v1/tickets/{number}/resolve", json={"note": "done"}, headers=fin)
    ).status_code == 200
    assert server.channel.resolved == ["conv-resolve"] and server.channel.handed_back == []


def _notifier(server: Running, channel: CustomerChannel) -> QueueNotifier:
    """A notifier on the server's database that may tell at once (no interval)."""
    return QueueNotifier(
        sessionmaker=server.app.ctx.sessionmaker,
        channel=channel,
        texts=load_notice_texts(NOTICES),
        rules=QueueRules(3600, 300),
        interval_seconds=0,
        poll_seconds=1,
    )


async def test_queue_notices_follow_the_queue(server, client: httpx.AsyncClient) -> None:
    first, second = await _handoff(client, "conv-q1", "tr"), await _handoff(client, "conv-q2", "en")
    channel = RecordingChannel()
    notifier = _notifier(server, channel)
    assert await notifier.tick() == []  # first pass remembers
    fin = await login(client, "fin")
    await client.post(f"/api/v1/tickets/{first}/claim", headers=fin)
    assert await notifier.tick() == [second]
    assert channel.notices == [
        ("conv-q2", "You have moved up the queue: you are now number 1 (about 60 min to wait).")
    ]  # one claim this hour
    assert await notifier.tick() == []  # nothing changed since


async def test_two_replicas_tell_each_move_once(server, client: httpx.AsyncClient) -> None:
    """Two notifiers on one database (two replicas of the service): the
    memory is shared, so a move up the queue is told exactly once, and a
    replica started later does not tell it again."""
    first = await _handoff(client, "conv-r1", "en")
    second = await _handoff(client, "conv-r2", "en")
    third = await _handoff(client, "conv-r3", "tr")

    def replica(channel: RecordingChannel) -> QueueNotifier:
        return _notifier(server, channel)

    a, b = RecordingChannel(), RecordingChannel()
    await asyncio.gather(replica(a).tick(), replica(b).tick())
    await client.post(f"/api/v1/tickets/{first}/claim", headers=await login(client, "fin"))
    told = await asyncio.gather(replica(a).tick(), replica(b).tick(), replica(b).tick())
    assert sorted(n for numbers in told for n in numbers) == [second, third]
    assert sorted(c for c, _ in a.notices + b.notices) == ["conv-r2", "conv-r3"]
    late = RecordingChannel()
    assert await replica(late).tick() == [] and late.notices == []


class _Down(RecordingChannel):
    """Rasa unreachable: nothing gets through."""

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        raise ChannelError("Rasa unreachable")

    async def notify(self, conversation_id: str, text: str) -> None:
        raise ChannelError("Rasa unreachable")


async def test_an_undelivered_queue_notice_is_tried_again(server, client: httpx.AsyncClient) -> None:
    first, second = await _handoff(client, "conv-d1"), await _handoff(client, "conv-d2")
    down = _Down()
    notifier = _notifier(server, down)
    await notifier.tick()
    await client.post(f"/api/v1/tickets/{first}/claim", headers=await login(client, "fin"))
    assert await notifier.tick() == []
    notifier._channel = RecordingChannel()  # Rasa is back
    assert await notifier.tick() == [second]


async def test_rasa_down_is_a_channel_error_not_a_crash() -> None:
    channel = RasaChannel(f"http://127.0.0.1:{free_port()}", "token", timeout=2)
    try:
        with pytest.raises(ChannelError):
            await channel.send("conv-1", "hello", "Ayşe")
        with pytest.raises(ChannelError):
            await channel.hand_back("conv-1")
    finally:
        await channel.close()


async def test_a_reply_rasa_refused_is_delivered_by_sending_it_again(server, client: httpx.AsyncClient) -> None:
    number = await _handoff(client, "conv-retry", "tr")
    fin = await login(client, "fin")
    await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)
    recording = server.app.ctx.channel  # the mail-aware channel, in front of server.channel
    server.app.ctx.channel = _Down()
    body = {"text": "Kontrol ediyorum.", "client_id": "draft-1"}
    failed = await client.post(f"/api/v1/tickets/{number}/reply", json=body, headers=fin)
    assert failed.status_code == 502 and failed.json()["error"]["code"] == "delivery_failed"
    transcript = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()["transcript"]
    assert [(m["text"], m["delivered"]) for m in transcript if m["sender"] == "agent"] == [("Kontrol ediyorum.", False)]

    server.app.ctx.channel = recording  # Rasa is back: the same draft is sent again
    again = await client.post(f"/api/v1/tickets/{number}/reply", json=body, headers=fin)
    assert again.status_code == 200 and again.json()["delivered"] is True
    once_more = await client.post(f"/api/v1/tickets/{number}/reply", json=body, headers=fin)
    assert once_more.status_code == 200
    assert [m.text for m in server.channel.sent] == ["Kontrol ediyorum."]  # delivered once, stored once
    transcript = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()["transcript"]
    assert [(m["text"], m["delivered"]) for m in transcript if m["sender"] == "agent"] == [("Kontrol ediyorum.", True)]
