"""The relay worker's lease: a mail is leased before it is sent, so two
workers (two replicas of the service) never send the same one, and a
worker that died leaves it to the next one when the lease ends."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.db import make_engine, make_sessionmaker
from handoff.mail.relay import make_relay
from handoff.mail.worker import RelayWorker
from handoff.models import utcnow
from handoff.repo import outbound_mail as outbound_repo
from handoff.services.outbound_mail import load_mail_texts, queue_mail
from handoff.settings import REPO_ROOT
from tests.handoff.mail_helpers import SmtpSink, outbound_rows

TEXTS = load_mail_texts(REPO_ROOT / "data" / "mail.yml")


async def _queue(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    ids = []
    async with sessionmaker() as session, session.begin():
        for i in range(count):
            row = await queue_mail(
                session=session,
                texts=TEXTS,
                kind="joined",
                to_address=f"customer{i}@example.com",
                language="tr" if i % 2 else "en",
                subject=f"[T-{i:06d}] Konu",
                values={"ticket_number": f"T-{i:06d}"},
                domain="desk.example",
            )
            assert row is not None
            ids.append(row.message_id)
    return ids


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_workers_on_postgresql_send_every_mail_exactly_once(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    queued = await _queue(sessionmaker, 40)
    sink = await SmtpSink(delay=0.01).start()
    engines = [make_engine(db_url), make_engine(db_url)]
    workers = [
        RelayWorker(
            sessionmaker=make_sessionmaker(engine),
            relay=make_relay(sink.url, timeout=5),  # type: ignore[arg-type]
            from_address="destek@desk.example",
            poll_seconds=0.05,
        )
        for engine in engines
    ]
    sent_by = [0, 0]

    async def count(i: int) -> None:
        while True:
            if await workers[i].send_one():
                sent_by[i] += 1
            else:
                await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(count(i)) for i in range(2)]
    try:
        await sink.wait_for(40, timeout=60)
        await asyncio.sleep(0.3)  # anything sent twice would have arrived by now
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sink.stop()
        for engine in engines:
            await engine.dispose()
    seen = Counter(str(m["Message-ID"]) for m in sink.received)
    assert set(seen) == set(queued) and max(seen.values()) == 1
    assert sent_by[0] > 0 and sent_by[1] > 0  # both took part
    rows = await outbound_rows(sessionmaker)
    assert {r.status for r in rows} == {"sent"} and all(r.sent_at is not None for r in rows)


async def test_a_leased_mail_waits_for_its_lease_and_only_its_holder_marks_it(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    [message_id] = await _queue(sessionmaker, 1)
    now = utcnow()
    lease = now + timedelta(seconds=90)
    async with sessionmaker() as session, session.begin():
        [row] = await outbound_repo.claim_due(session=session, now=now, lease_until=lease)
        assert row.message_id == message_id
    async with sessionmaker() as session, session.begin():  # another worker, meanwhile
        assert await outbound_repo.claim_due(session=session, now=now, lease_until=now + timedelta(seconds=90)) == []
        other_lease = now + timedelta(seconds=91)
        assert not await outbound_repo.mark_sent(session=session, mail_id=row.id, lease_until=other_lease, at=now)
    # the holder died: after its lease the mail is due again, for whoever comes
    later = lease + timedelta(seconds=1)
    async with sessionmaker() as session, session.begin():
        [again] = await outbound_repo.claim_due(session=session, now=later, lease_until=later + timedelta(seconds=90))
        assert again.id == row.id
        assert await outbound_repo.mark_sent(
            session=session, mail_id=row.id, lease_until=later + timedelta(seconds=90), at=later
        )
    [done] = await outbound_rows(sessionmaker)
    assert done.status == "sent" and done.attempts == 0


async def test_a_failed_attempt_is_counted_and_waits_longer_each_time(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _queue(sessionmaker, 1)
    worker = RelayWorker(
        sessionmaker=sessionmaker,
        relay=make_relay(SmtpSink().url, timeout=2),  # type: ignore[arg-type]
        from_address="destek@desk.example",
        retry_seconds=10,
        retry_max_seconds=15,
    )
    waits = []
    [row] = await outbound_rows(sessionmaker)
    for _ in range(3):
        assert await worker.send_one(now=row.next_attempt_at) is True  # due: tried, refused
        [row] = await outbound_rows(sessionmaker)
        waits.append(round((row.next_attempt_at - utcnow()).total_seconds()))
    assert row.attempts == 3 and row.status == "pending" and row.last_error
    assert waits == [10, 15, 15]
    assert await worker.send_one() is False  # not due before its wait is over


async def test_a_mail_the_relay_client_chokes_on_is_retried_not_left_leased(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Not only the relay's refusals: any error while sending counts as a
    failed attempt with its wait, so the mail is not stuck under a lease."""

    class Broken:
        async def send(self, message: object) -> None:
            raise ValueError("a header the client cannot encode")

    await _queue(sessionmaker, 1)
    worker = RelayWorker(
        sessionmaker=sessionmaker,
        relay=Broken(),  # type: ignore[arg-type]
        from_address="destek@desk.example",
        retry_seconds=10,
        retry_max_seconds=15,
    )
    assert await worker.send_one() is True
    [row] = await outbound_rows(sessionmaker)
    assert row.attempts == 1 and row.status == "pending" and "ValueError" in (row.last_error or "")
    assert 5 < (row.next_attempt_at - utcnow()).total_seconds() <= 10
