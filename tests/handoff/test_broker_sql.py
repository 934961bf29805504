"""handoff/broker/sql.py: following Rasa's SQL event broker: the cursor,
malformed rows, Rasa's table appearing late or started again, two replicas."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff.broker import ConsumerTask
from handoff.broker.sql import RECHECKS, SqlEventSource, _without_gaps
from handoff.db import make_engine, make_sessionmaker
from handoff.live_bus import InMemoryLiveBus
from handoff.services.bootstrap import sync_departments
from handoff.settings import REPO_ROOT
from tests.handoff.conftest import PG_ADMIN_URL, Collected, Seed, _empty
from tests.handoff.helpers import _eq, _true, until
from tests.handoff.rasa_events import (
    T0,
    SqlBroker,
    cursor,
    customer_line_update,
    drain,
    open_ticket,
    rasa_events_table,
    refusing_line,
    source,
    statements,
    ticket_messages,
    transcript,
    user_event,
)


async def test_cursor_survives_a_restart(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    conv = "restart-1"
    for i in range(5):
        await broker.put(user_event(conv, f"m{i}", T0 + i))
    first = ConsumerTask(source(broker.url, sessionmaker, bus))
    first.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 5))
    await first.stop()

    for i in range(5, 12):
        await broker.put(user_event(conv, f"m{i}", T0 + i))
    second_source = source(broker.url, sessionmaker, bus, batch_size=3)
    second = ConsumerTask(second_source)
    second.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 12))
    await second.stop()

    assert second_source.consumed == 7  # rows 6..12 only: nothing read twice
    assert [line.text for line in await transcript(sessionmaker, conv)] == [f"m{i}" for i in range(12)]


async def test_malformed_rows_are_skipped(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    conv = "malformed-1"
    await broker.put_raw(conv, "{not json")
    await broker.put_raw(None, json.dumps({"event": "user", "text": "who am I?", "timestamp": T0}))
    await broker.put_raw(conv, None)
    await broker.put_raw(conv, json.dumps(["a", "list"]))
    await broker.put_raw(conv, json.dumps({**user_event(conv, "NUL\x00 inside", T0 + 1)}))
    await broker.put_raw(
        conv, json.dumps({**user_event(conv, "bad intent", T0 + 2), "parse_data": {"intent": "not a dict"}})
    )
    await broker.put(user_event(conv, "fine", T0 + 3))
    task = ConsumerTask(source(broker.url, sessionmaker, bus))
    task.start()
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 7))
    assert task.running  # still following
    await task.stop()
    lines = await transcript(sessionmaker, conv)
    assert [line.text for line in lines] == ["NUL inside", "bad intent", "fine"]
    assert lines[1].intent is None


def test_rows_read_before_the_lock_are_used_only_without_a_missing_id() -> None:
    rows = [SimpleNamespace(id=i) for i in (5, 6, 7)]
    assert _without_gaps(rows, 4) and _without_gaps([], 4)
    assert not _without_gaps(rows, 3)  # id 4 may still commit
    assert not _without_gaps([SimpleNamespace(id=5), SimpleNamespace(id=7)], 4)


async def test_a_batch_is_stored_without_a_savepoint_per_event(
    broker: SqlBroker, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    for i in range(3):
        await broker.put(user_event("fast-1", f"satır {i}", T0 + i))
    with statements(engine) as seen:
        await drain(source(broker.url, sessionmaker, bus))
    assert [line.text for line in await transcript(sessionmaker, "fast-1")] == [f"satır {i}" for i in range(3)]
    assert seen.count("INSERT") == 4 and "SAVEPOINT" not in seen  # the new cursor, then each line


async def test_a_line_the_database_refuses_is_skipped_and_its_batch_kept(
    broker: SqlBroker,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    collected: Collected,
    seed: Seed,
) -> None:
    """A batch is stored without a savepoint per line; when the database
    refuses one line the batch is rolled back and stored again, line by
    line, and only that line is left out (logged), the cursor past all of
    them; the console hears of each stored line once, none of the attempt
    that was rolled back."""
    conv = "refused-1"
    ticket = await open_ticket(sessionmaker, conv, claimed_by=seed.agents["fin"])
    async with refusing_line(engine, "refuse me"):
        for i, text in enumerate(["before", "refuse me", "after"]):
            await broker.put(user_event(conv, text, T0 + 1 + i))
        src = source(broker.url, sessionmaker, bus)
        with statements(engine) as seen:
            await drain(src)
    assert [line.text for line in await transcript(sessionmaker, conv)] == ["before", "after"]
    assert [m.text for m in await ticket_messages(sessionmaker, ticket) if m.sender == "customer"][-2:] == [
        "before",
        "after",
    ]
    assert await cursor(sessionmaker, broker.url) == 3 and src.consumed == 3
    assert seen.count("SAVEPOINT") == 3  # the second attempt, one per event
    await until(lambda: _true(len(collected.events) >= 2))
    await asyncio.sleep(0.05)
    assert collected.events == [customer_line_update(ticket, seed.agents["fin"].id)] * 2


async def test_waits_for_rasa_to_create_the_table(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    task = ConsumerTask(source(broker.url, sessionmaker, bus))
    task.start()
    await asyncio.sleep(0.2)
    assert not broker.path.exists()  # the follower does not create Rasa's file
    await asyncio.to_thread(broker.create)  # Rasa starts: creates the table, then publishes
    await asyncio.sleep(0.1)
    await broker.put(user_event("late-1", "ilk mesaj", T0))
    await until(lambda: _eq(cursor(sessionmaker, broker.url), 1))
    await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "late-1")] == ["ilk mesaj"]


async def test_events_table_started_again_is_read_from_the_start(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    for i in range(3):
        await broker.put(user_event("reset-1", f"old {i}", T0 + i))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    broker.close()
    broker.path.unlink()
    await broker.put(user_event("reset-1", "new", T0 + 10))  # a fresh events.db: ids start at 1 again
    await drain(src)
    await drain(src)
    assert [line.text for line in await transcript(sessionmaker, "reset-1")] == ["old 0", "old 1", "old 2", "new"]
    assert await cursor(sessionmaker, broker.url) == 1


@pytest.fixture
async def pg_events_url() -> AsyncIterator[str]:
    """A database of its own for Rasa's events table, as in a deployment."""
    name = f"rasa_events_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_two_replicas_on_postgresql_process_each_event_once(
    pg_url: str, pg_events_url: str, bus: InMemoryLiveBus
) -> None:
    engine = make_engine(pg_url, pool_size=10)
    events_engine = create_async_engine(pg_events_url.replace("postgresql://", "postgresql+asyncpg://"))
    table = rasa_events_table()
    try:
        await _empty(engine)
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await sync_departments(session=session, catalogue_path=REPO_ROOT / "data" / "catalogue.yml")
        ticket = await open_ticket(sessionmaker, "pg-conv")
        async with events_engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        total = 400
        replicas = [source(pg_events_url, sessionmaker, bus, batch_size=25, gap_grace=0.2) for _ in range(2)]
        tasks = [ConsumerTask(r) for r in replicas]
        for t in tasks:
            t.start()
        for i in range(total):  # one committed insert per event, while both follow
            event = user_event("pg-conv", f"msg {i}", T0 + 1 + i / 1000)
            async with events_engine.begin() as conn:
                await conn.execute(insert(table).values(sender_id=event["sender_id"], data=json.dumps(event)))
        await until(lambda: _eq(cursor(sessionmaker, pg_events_url), total), timeout=30)
        for t in tasks:
            await t.stop()
        assert sum(r.consumed for r in replicas) == total  # the cursor lock: no batch read by both
        lines = await transcript(sessionmaker, "pg-conv")
        assert len(lines) == total and len({line.event_key for line in lines}) == total
        customer = [m for m in await ticket_messages(sessionmaker, ticket) if m.source_id.startswith("rasa:")]
        assert len(customer) == total
        await _empty(engine)
    finally:
        await events_engine.dispose()
        await engine.dispose()


class CountingSource(SqlEventSource):
    """Counts the reads of Rasa's table (a connection and a query each)."""

    reads = 0

    async def step(self) -> int:
        self.reads += 1
        return await super().step()


@pytest.mark.parametrize("use_inotify", [True, False], ids=["inotify", "stat"])
async def test_a_commit_to_rasas_sqlite_file_is_read_without_waiting_out_the_poll_interval(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, use_inotify: bool
) -> None:
    await asyncio.to_thread(broker.create)
    followed = source(
        broker.url, sessionmaker, bus, poll_interval=30.0, watched_poll_interval=30.0, use_inotify=use_inotify
    )
    task = ConsumerTask(followed)
    task.start()
    await until(lambda: _true(followed._ready))
    assert (followed._watch is not None) is use_inotify  # this machine is Linux: the kernel reports
    await asyncio.sleep(0.1)  # idle: waiting between reads
    for i in range(3):
        began = asyncio.get_running_loop().time()
        await broker.put(user_event("watch-1", f"mesaj {i}", T0 + i))
        await until(lambda i=i: _eq(cursor(sessionmaker, broker.url), i + 1), timeout=5)
        assert asyncio.get_running_loop().time() - began < 2  # not the 30 s interval
        await asyncio.sleep(0.1)
    await task.stop()
    assert [line.text for line in await transcript(sessionmaker, "watch-1")] == [f"mesaj {i}" for i in range(3)]


async def _counting_and_quiet(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> tuple[CountingSource, ConsumerTask]:
    """A counting follower on inotify (a 0.02 s poll if it looked instead),
    started, ready, and past its first reads."""
    await asyncio.to_thread(broker.create)
    followed = CountingSource(
        events_url=broker.url, sessionmaker=sessionmaker, bus=bus, poll_interval=0.02, watched_poll_interval=30.0
    )
    task = ConsumerTask(followed)
    task.start()
    await until(lambda: _true(followed._ready))
    await asyncio.sleep(0.2)
    return followed, task


async def test_idle_the_follower_does_not_read_until_rasa_commits(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus, tmp_path: Path
) -> None:
    """With inotify nothing runs between commits: no read in a second of
    quiet, even with other files of the folder changing (the service's own
    database may live beside Rasa's), and one commit wakes it at once."""
    followed, task = await _counting_and_quiet(broker, sessionmaker, bus)
    try:
        before = followed.reads
        neighbour = tmp_path / "neighbour.db"
        for i in range(20):
            await asyncio.to_thread(neighbour.write_text, f"not Rasa's {i}")
            await asyncio.sleep(0.05)
        assert followed.reads == before  # a poll of 0.02 s would have read about 50 times
        await broker.put(user_event("idle-1", "uyandım", T0))
        await until(lambda: _eq(cursor(sessionmaker, broker.url), 1), timeout=5)
        assert followed.reads > before
    finally:
        await task.stop()
    assert followed._watch is None  # closed with the follower


async def test_reads_of_rasas_sqlite_file_share_one_open_connection_until_the_file_is_replaced(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    from sqlalchemy import event

    src = source(broker.url, sessionmaker, bus)
    opened: list[int] = []
    for i in range(5):
        await broker.put(user_event("pool-1", f"mesaj {i}", T0 + i))
        await drain(src)
        if len(opened) == 0 and src._engine is not None:
            event.listen(src._engine.sync_engine, "connect", lambda *_: opened.append(1))
    for i in range(5, 10):
        await broker.put(user_event("pool-1", f"mesaj {i}", T0 + i))
        await drain(src)
    assert opened == []  # no new connection for the later reads
    first_engine = src._engine
    broker.close()
    broker.path.unlink()
    await broker.put(user_event("pool-1", "yeni dosya", T0 + 20))
    await drain(src)
    await drain(src)
    assert src._engine is not first_engine  # the replaced file is opened anew
    texts = [line.text for line in await transcript(sessionmaker, "pool-1")]
    assert texts == [f"mesaj {i}" for i in range(10)] + ["yeni dosya"]
    await src.aclose()


async def test_a_wake_up_that_finds_nothing_is_followed_by_a_few_more_reads(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    """In WAL mode a commit's frames reach the -wal (reported) before its
    header reaches the -shm (not reported): the read the report started may
    see nothing yet, so a few more come after growing delays, then quiet."""
    followed, task = await _counting_and_quiet(broker, sessionmaker, bus)
    try:
        wal = broker.path.with_name(broker.path.name + "-wal")
        fd = os.open(wal, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        await asyncio.sleep(1.2)  # the file's creation reported, read and looked at again
        before = followed.reads
        await asyncio.to_thread(os.write, fd, b"frames of a commit not yet visible")  # one report
        os.close(fd)
        await asyncio.sleep(1.2)
        assert followed.reads - before == 1 + len(RECHECKS)  # the wake-up's read and the looks after it
        await asyncio.sleep(0.5)
        assert followed.reads - before == 1 + len(RECHECKS)  # then nothing until the next report
    finally:
        await task.stop()


async def test_a_watch_that_ended_gives_way_to_looking_at_the_file(
    broker: SqlBroker, sessionmaker: async_sessionmaker[AsyncSession], bus: InMemoryLiveBus
) -> None:
    await asyncio.to_thread(broker.create)
    followed = source(broker.url, sessionmaker, bus, poll_interval=30.0, watched_poll_interval=30.0)
    task = ConsumerTask(followed)
    task.start()
    try:
        await until(lambda: _true(followed._ready))
        watch = followed._watch
        assert watch is not None
        watch._give_up()  # what a removed folder or a failed read does
        await until(lambda: _true(followed._watch is None))
        await broker.put(user_event("fallback-1", "stat ile", T0))
        await until(lambda: _eq(cursor(sessionmaker, broker.url), 1), timeout=5)  # the 25 ms look, not 30 s
    finally:
        await task.stop()
