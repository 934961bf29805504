"""Services and repositories on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import Conflict, NotFound, Unprocessable
from handoff.models import AuditEntry, Message, Ticket, utcnow
from handoff.repo import audit as audit_repo
from handoff.schemas import SummaryValidator
from handoff.services import handoffs, tickets
from handoff.services.queue_positions import QueueRules
from handoff.services.retention import apply_retention
from handoff.services.stats import supervisor_stats
from handoff.settings import REPO_ROOT
from tests.handoff.factories import summary
from tests.handoff.helpers import CUSTOMER_STATUS_FIELDS

VALIDATOR = SummaryValidator(REPO_ROOT / "schemas" / "handoff_summary.schema.json")
RULES = QueueRules(rate_window_seconds=3600, default_handle_seconds=300)

Maker = async_sessionmaker[AsyncSession]


async def create(sm: Maker, key: str = "k1", now=None, **kw):
    async with sm() as s, s.begin():
        return await handoffs.create_handoff(
            session=s, summary=summary(**kw), idempotency_key=key, validator=VALIDATOR, rules=RULES, now=now
        )


async def test_create_is_idempotent_per_conversation_and_key(sessionmaker: Maker, seed) -> None:
    body = summary(conversation_id="c-1")
    async with sessionmaker() as s, s.begin():
        first = await handoffs.create_handoff(
            session=s, summary=body, idempotency_key="a", validator=VALIDATOR, rules=RULES
        )
    async with sessionmaker() as s, s.begin():
        again = await handoffs.create_handoff(
            session=s, summary=body, idempotency_key="a", validator=VALIDATOR, rules=RULES
        )
        other = await handoffs.create_handoff(
            session=s, summary=body, idempotency_key="b", validator=VALIDATOR, rules=RULES
        )
    assert first.created and not again.created and other.created
    assert again.ticket.id == first.ticket.id != other.ticket.id
    assert first.ticket.number.startswith("T-") and len(first.ticket.number) == 8
    async with sessionmaker() as s:
        n = await s.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == first.ticket.id))
        stored = await s.get(Ticket, first.ticket.id)
    assert n == 2  # the summary's transcript, once
    assert stored is not None and stored.summary["ticket_number"] == first.ticket.number


async def test_unknown_department_rejected(sessionmaker: Maker, seed) -> None:
    body = {**summary(), "department": "legal"}
    async with sessionmaker() as s, s.begin():
        with pytest.raises(Unprocessable, match="department"):
            await handoffs.create_handoff(
                session=s, summary=body, idempotency_key="k", validator=VALIDATOR, rules=RULES
            )


async def test_queue_position_priority_then_age(sessionmaker: Maker, seed) -> None:
    t0 = utcnow() - timedelta(minutes=10)
    a = await create(sessionmaker, "a", now=t0, priority="normal")
    b = await create(sessionmaker, "b", now=t0 + timedelta(minutes=1), priority="normal")
    c = await create(sessionmaker, "c", now=t0 + timedelta(minutes=2), priority="urgent")
    d = await create(sessionmaker, "d", now=t0 + timedelta(minutes=3), priority="low")
    other = await create(sessionmaker, "e", now=t0, department="account", priority="urgent")
    assert c.queue_position == 1 and other.queue_position == 1
    async with sessionmaker() as s:
        positions = {}
        for r in (a, b, c, d):
            t = await s.get(Ticket, r.ticket.id)
            positions[r.ticket.number] = (await handoffs.queue_info(session=s, ticket=t, rules=RULES))[0]
    assert [positions[r.ticket.number] for r in (c, a, b, d)] == [1, 2, 3, 4]
    # with no claims in the window, the wait is position x default handling time
    assert d.expected_wait_seconds == 4 * 300


async def test_expected_wait_follows_recent_claims(sessionmaker: Maker, seed) -> None:
    for i in range(4):
        await create(sessionmaker, f"k{i}")
    async with sessionmaker() as s, s.begin():
        for _ in range(2):
            assert await tickets.claim_next(session=s, agent=seed.agents["fin"]) is not None
    result = await create(sessionmaker, "late")
    # 2 claims in the last 3600 s; third in line -> ceil(3 * 3600 / 2)
    assert result.queue_position == 3
    assert result.expected_wait_seconds == 5400


async def test_claim_order_and_department_scope(sessionmaker: Maker, seed) -> None:
    t0 = utcnow() - timedelta(minutes=5)
    low = await create(sessionmaker, "low", now=t0, priority="low")
    high = await create(sessionmaker, "high", now=t0 + timedelta(seconds=30), priority="high")
    acc = await create(sessionmaker, "acc", now=t0 - timedelta(minutes=1), department="account", priority="urgent")
    async with sessionmaker() as s, s.begin():
        first = await tickets.claim_next(session=s, agent=seed.agents["fin"])
        second = await tickets.claim_next(session=s, agent=seed.agents["fin"])
        none = await tickets.claim_next(session=s, agent=seed.agents["fin"])
    assert first is not None and second is not None
    assert [first.id, second.id] == [high.ticket.id, low.ticket.id]
    assert none is None  # the account ticket is not theirs
    async with sessionmaker() as s, s.begin():
        with pytest.raises(NotFound):
            await tickets.claim(session=s, agent=seed.agents["fin"], number=acc.ticket.number)
        with pytest.raises(Conflict):
            await tickets.claim(session=s, agent=seed.agents["boss"], number=high.ticket.number)
        claimed = await tickets.claim(session=s, agent=seed.agents["boss"], number=acc.ticket.number)
    assert claimed.assignee_id == seed.agents["boss"].id and claimed.assigned_at is not None


async def test_lifecycle_reply_resolve_and_audit(sessionmaker: Maker, seed) -> None:
    r = await create(sessionmaker)
    fin, acc = seed.agents["fin"], seed.agents["acc"]
    number = r.ticket.number
    async with sessionmaker() as s, s.begin():
        await tickets.claim(session=s, agent=fin, number=number)
        _, _, first = await tickets.reply(
            session=s, agent=fin, number=number, text="Kontrol ediyorum", source_id="agent:1"
        )
        _, _, again = await tickets.reply(
            session=s, agent=fin, number=number, text="Kontrol ediyorum", source_id="agent:1"
        )
        assert first and not again
        with pytest.raises(NotFound):  # other department: looks like nothing
            await tickets.resolve(session=s, agent=acc, number=number, note=None)
        resolved = await tickets.resolve(session=s, agent=fin, number=number, note="credited manually")
    assert resolved.status == "resolved" and resolved.resolved_at and resolved.closed_at
    assert resolved.resolution_note == "credited manually"
    async with sessionmaker() as s, s.begin():
        with pytest.raises(Conflict):
            await tickets.reply(session=s, agent=fin, number=number, text="again", source_id="agent:2")
        await tickets.read_ticket(session=s, agent=seed.agents["boss"], number=number)
        actions = [(e.actor, e.action) for e in await audit_repo.list_audit(session=s, ticket_id=r.ticket.id)]
    assert actions == [("fin", "claim"), ("fin", "reply"), ("fin", "resolve"), ("boss", "view")]


async def test_transfer_keeps_age_and_requeues(sessionmaker: Maker, seed) -> None:
    r = await create(sessionmaker, now=utcnow() - timedelta(hours=1))
    await create(sessionmaker, "acc-new", department="account")
    fin, acc = seed.agents["fin"], seed.agents["acc"]
    async with sessionmaker() as s, s.begin():
        await tickets.claim(session=s, agent=fin, number=r.ticket.number)
        moved, previous = await tickets.transfer(
            session=s, agent=fin, number=r.ticket.number, department="account", note=None
        )
    assert previous == "finance" and moved.status == "queued" and moved.assignee_id is None
    async with sessionmaker() as s, s.begin():
        with pytest.raises(NotFound):
            await tickets.read_ticket(session=s, agent=fin, number=r.ticket.number)
        nxt = await tickets.claim_next(session=s, agent=acc)
    assert nxt is not None and nxt.id == r.ticket.id  # older than the account ticket


async def test_hand_back_closes_ticket(sessionmaker: Maker, seed) -> None:
    r = await create(sessionmaker)
    async with sessionmaker() as s, s.begin():
        await tickets.claim(session=s, agent=seed.agents["fin"], number=r.ticket.number)
        back = await tickets.hand_back(session=s, agent=seed.agents["fin"], number=r.ticket.number)
        status = await handoffs.ticket_status(session=s, number=r.ticket.number, rules=RULES)
    assert back.status == "handed_back" and back.handed_back_at is not None
    assert status["status"] == "handed_back" and status["queue_position"] is None
    assert set(status) == CUSTOMER_STATUS_FIELDS


async def test_search_by_username_number_and_date(sessionmaker: Maker, seed) -> None:
    old = await create(sessionmaker, "old", now=utcnow() - timedelta(days=3), username="eski_musteri")
    new = await create(sessionmaker, "new", username="yeni_musteri")
    hidden = await create(sessionmaker, "acc", department="account", username="eski_musteri")
    fin = seed.agents["fin"]
    today = utcnow().date().isoformat()
    async with sessionmaker() as s:
        by_user = await tickets.search(session=s, agent=fin, username="eski_musteri")
        by_number = await tickets.search(session=s, agent=fin, number=new.ticket.number)
        by_date = await tickets.search(session=s, agent=fin, date_from=today, date_to=today)
        boss_user = await tickets.search(session=s, agent=seed.agents["boss"], username="eski_musteri")
        bad_number = await tickets.search(session=s, agent=fin, number="../etc")
    assert [t.id for t in by_user] == [old.ticket.id]
    assert [t.id for t in by_number] == [new.ticket.id]
    assert [t.id for t in by_date] == [new.ticket.id]
    assert {t.id for t in boss_user} == {old.ticket.id, hidden.ticket.id}
    assert bad_number == []


async def test_retention_archives_then_purges(sessionmaker: Maker, seed) -> None:
    fin = seed.agents["fin"]
    now = utcnow()
    numbers = {}
    for key, age_days in (("fresh", 1), ("old", 40), ("ancient", 400)):
        r = await create(sessionmaker, key)
        async with sessionmaker() as s, s.begin():
            await tickets.claim(session=s, agent=fin, number=r.ticket.number)
            await tickets.resolve(
                session=s, agent=fin, number=r.ticket.number, note=None, now=now - timedelta(days=age_days)
            )
        numbers[key] = r.ticket.id
    open_ticket = await create(sessionmaker, "open")
    async with sessionmaker() as s, s.begin():
        result = await apply_retention(session=s, archive_after_days=30, purge_after_days=365, now=now)
    assert (result.archived, result.purged) == (2, 1)
    async with sessionmaker() as s:
        rows = {t.id: t for t in (await s.execute(select(Ticket))).scalars()}
        orphan = await s.scalar(
            select(func.count()).select_from(Message).where(Message.ticket_id == numbers["ancient"])
        )
        audit_kept = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.ticket_id == numbers["ancient"])
        )
    assert numbers["ancient"] not in rows and orphan == 0 and audit_kept == 2
    assert rows[numbers["old"]].archived_at is not None
    assert rows[numbers["fresh"]].archived_at is None
    assert rows[open_ticket.ticket.id].archived_at is None
    # archived tickets are read-only
    async with sessionmaker() as s, s.begin():
        with pytest.raises(Conflict, match="archived"):
            await tickets.reply(session=s, agent=fin, number=rows[numbers["old"]].number, text="x", source_id="s")
    async with sessionmaker() as s, s.begin():
        again = await apply_retention(session=s, archive_after_days=30, purge_after_days=365, now=now)
    assert (again.archived, again.purged) == (0, 0)


async def test_supervisor_stats(sessionmaker: Maker, seed) -> None:
    now = utcnow()
    for i in range(3):
        await create(sessionmaker, f"f{i}", now=now - timedelta(minutes=10 * (i + 1)))
    await create(sessionmaker, "a0", department="account")
    fin = seed.agents["fin"]
    async with sessionmaker() as s, s.begin():
        t = await tickets.claim_next(session=s, agent=fin, now=now)
        assert t is not None
        await tickets.resolve(session=s, agent=fin, number=t.number, note=None, now=now)
    async with sessionmaker() as s:
        stats = await supervisor_stats(session=s, now=now + timedelta(seconds=1))
    by = {d["department"]: d for d in stats["departments"]}
    assert by["finance"]["queue_length"] == 2 and by["account"]["queue_length"] == 1
    assert by["finance"]["handled_today"] == 1
    assert by["finance"]["wait_seconds"]["count"] == 1
    assert by["finance"]["wait_seconds"]["p50"] == pytest.approx(1800, abs=2)  # oldest first
    assert stats["total"]["queue_length"] == 3


async def test_searches_and_queue_listings_are_audited(sessionmaker: Maker, seed) -> None:
    """They show usernames: who looked, for what, which tickets they saw (by
    number; no username of the results in the entry)."""
    first = await create(sessionmaker, "s1", conversation_id="aud-1", username="ayse_k")
    second = await create(sessionmaker, "s2", conversation_id="aud-2", username="mehmet_y")
    fin = seed.agents["fin"]
    async with sessionmaker() as s, s.begin():
        found = await tickets.search(session=s, agent=fin, username="ayse_k", date_from="2020-01-01")
        await tickets.queue_for(session=s, agent=fin, rules=RULES)
    assert [t.id for t in found] == [first.ticket.id]
    async with sessionmaker() as s:
        searched = await audit_repo.list_audit(session=s, action="search")
        listed = await audit_repo.list_audit(session=s, action="list_queue")
    assert [(a.actor, a.agent_id, a.ticket_id) for a in searched] == [("fin", fin.id, None)]
    assert searched[0].detail == {
        "query": {"username": "ayse_k", "date_from": "2020-01-01"},
        "tickets": [first.ticket.number],
    }
    assert [(a.actor, a.detail) for a in listed] == [("fin", {"tickets": [first.ticket.number, second.ticket.number]})]
    assert "mehmet_y" not in repr(listed[0].detail) and listed[0].at is not None
