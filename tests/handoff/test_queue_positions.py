"""One queue position for everyone: the bot's handoff and status answers,
the console's queue and the queue notices read the same computation
(handoff.services.queue_positions), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TypeAlias

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import Ticket
from handoff.notice_texts import load_notice_texts
from handoff.services import handoffs
from handoff.services import tickets as tickets_svc
from handoff.services.channel import RecordingChannel
from handoff.services.queue_notices import QueueNotifier
from handoff.services.queue_positions import QueueRules, queued_places
from handoff.settings import REPO_ROOT
from support_rules.limits import wait_minutes
from tests.handoff.conftest import Seed
from tests.handoff.factories import summary
from tests.handoff.rasa_events import VALIDATOR

Maker: TypeAlias = async_sessionmaker[AsyncSession]
NOTICES = REPO_ROOT / "data" / "notices.yml"
RULES = QueueRules(rate_window_seconds=3600, default_handle_seconds=300)
NOW = datetime.now(timezone.utc).replace(microsecond=0)


async def _queue(sessionmaker: Maker, seed: Seed) -> dict[str, str]:
    """A mixed queue: priorities, two departments, two tickets created at the
    same instant (the id breaks the tie), and a claimed one that no longer
    counts. Returns label -> ticket number."""
    plan = [
        ("old_normal", "finance", "normal", NOW - timedelta(minutes=50)),
        ("claimed", "finance", "urgent", NOW - timedelta(minutes=45)),
        ("tie_a", "finance", "high", NOW - timedelta(minutes=40)),
        ("tie_b", "finance", "high", NOW - timedelta(minutes=40)),
        ("urgent", "finance", "urgent", NOW - timedelta(minutes=5)),
        ("low", "finance", "low", NOW - timedelta(minutes=60)),
        ("account", "account", "normal", NOW - timedelta(minutes=30)),
        ("account_new", "account", "normal", NOW - timedelta(minutes=1)),
    ]
    numbers = {}
    async with sessionmaker() as s, s.begin():
        for label, department, priority, created in plan:
            result = await handoffs.create_handoff(
                session=s,
                summary=summary(department, priority=priority, conversation_id=f"conv-{label}"),
                idempotency_key=label,
                validator=VALIDATOR,
                rules=RULES,
                now=created,
            )
            numbers[label] = result.ticket.number
        await tickets_svc.claim(session=s, agent=seed.agents["fin"], number=numbers["claimed"], now=NOW)
    return numbers


async def test_bot_console_and_notices_agree(sessionmaker: Maker, seed: Seed) -> None:
    numbers = await _queue(sessionmaker, seed)
    async with sessionmaker() as s:
        bot = {}
        for number in numbers.values():
            status = await handoffs.ticket_status(session=s, number=number, rules=RULES, now=NOW)
            bot[number] = (status["queue_position"], status["expected_wait_seconds"])
        console = await tickets_svc.queue_for(session=s, agent=seed.agents["boss"], rules=RULES, now=NOW)
        finance_only = await tickets_svc.queue_for(session=s, agent=seed.agents["fin"], rules=RULES, now=NOW)

    # the expected order, written out: priority, then age, then id
    expected = {
        "urgent": 1,
        "tie_a": 2,
        "tie_b": 3,
        "old_normal": 4,
        "low": 5,
        "account": 1,
        "account_new": 2,
    }
    assert {label: bot[numbers[label]][0] for label in expected} == expected
    assert bot[numbers["claimed"]] == (None, None)
    # one claim in the finance window: W / 1 per place; none in account: H per place
    assert bot[numbers["tie_a"]][1] == 2 * 3600 and bot[numbers["account_new"]][1] == 2 * 300

    queued = {t["ticket_number"]: (t["queue_position"], t["expected_wait_seconds"]) for t in console["queued"]}
    assert queued == {n: place for n, place in bot.items() if place != (None, None)}
    assert [t["ticket_number"] for t in console["queued"]][:2] == [numbers["urgent"], numbers["tie_a"]]
    assert {t["ticket_number"]: (t["queue_position"], t["expected_wait_seconds"]) for t in finance_only["queued"]} == {
        n: p for n, p in queued.items() if n not in (numbers["account"], numbers["account_new"])
    }

    channel = RecordingChannel()
    texts = load_notice_texts(NOTICES)
    notifier = QueueNotifier(
        sessionmaker=sessionmaker, channel=channel, texts=texts, rules=RULES, interval_seconds=0, poll_seconds=1
    )
    assert await notifier.tick(NOW) == []  # the first pass remembers what the bot told
    async with sessionmaker() as s:
        told = {t.number: t.told_position for t in (await s.execute(select(Ticket))).scalars()}
    assert {n: told[n] for n in queued} == {n: p for n, (p, _) in queued.items()}

    # the next ticket is claimed: everyone behind it in finance hears the
    # position the bot would now answer, with the bot's wait
    later = NOW + timedelta(minutes=1)
    async with sessionmaker() as s, s.begin():
        first = await tickets_svc.claim_next(session=s, agent=seed.agents["fin"], now=later)
    assert first is not None and first.number == numbers["urgent"]  # claiming serves position 1
    moved = await notifier.tick(later)
    assert sorted(moved) == sorted(numbers[k] for k in ("tie_a", "tie_b", "old_normal", "low"))
    by_conversation = dict(channel.notices)
    async with sessionmaker() as s:
        for label in ("tie_a", "tie_b", "old_normal", "low"):
            status = await handoffs.ticket_status(session=s, number=numbers[label], rules=RULES, now=later)
            assert status["queue_position"] == expected[label] - 1
            assert by_conversation[f"conv-{label}"] == texts.render(
                "queue_position",
                "tr",
                queue_position=status["queue_position"],
                wait_minutes=wait_minutes(status["expected_wait_seconds"]),
            )


async def test_a_handoff_answers_the_place_the_queue_shows(sessionmaker: Maker, seed: Seed) -> None:
    numbers = await _queue(sessionmaker, seed)
    async with sessionmaker() as s, s.begin():
        result = await handoffs.create_handoff(
            session=s,
            summary=summary("finance", priority="high", conversation_id="conv-late"),
            idempotency_key="late",
            validator=VALIDATOR,
            rules=RULES,
            now=NOW,
        )
    async with sessionmaker() as s:
        places = {p.ticket.number: p for p in await queued_places(session=s, rules=RULES, now=NOW)}
    # behind the urgent one and the two older high ones
    assert (result.queue_position, result.expected_wait_seconds) == (4, 4 * 3600)
    assert (places[result.ticket.number].position, places[result.ticket.number].expected_wait_seconds) == (4, 4 * 3600)
    assert places[numbers["old_normal"]].position == 5


async def test_one_ticket_and_a_limited_queue_keep_their_places(sessionmaker: Maker, seed: Seed) -> None:
    numbers = await _queue(sessionmaker, seed)
    async with sessionmaker() as s:
        everything = await queued_places(session=s, rules=RULES, now=NOW)
        first_three = await queued_places(session=s, rules=RULES, now=NOW, limit=3)
        account = await queued_places(session=s, rules=RULES, now=NOW, departments=["account"])
        nobody = await queued_places(session=s, rules=RULES, now=NOW, departments=[])
    assert [(p.ticket.number, p.position) for p in first_three] == [
        (p.ticket.number, p.position) for p in everything[:3]
    ]
    assert [(p.ticket.number, p.position) for p in account] == [(numbers["account"], 1), (numbers["account_new"], 2)]
    assert nobody == []
