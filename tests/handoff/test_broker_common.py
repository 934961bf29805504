"""handoff/broker/common.py: what every follower shares: one transaction per
batch with its cursor, and the backoff while the handoff database is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.broker import ConsumerTask, common
from handoff.db import make_engine, make_sessionmaker
from handoff.live_bus import InMemoryLiveBus
from handoff.migrate import upgrade
from tests.handoff.helpers import _eq, _true, until
from tests.handoff.rasa_events import T0, SqlBroker, cursor, drain, source, transcript, user_event


async def test_database_down_is_retried(broker: SqlBroker, tmp_path: Path, bus: InMemoryLiveBus) -> None:
    """The handoff database is not there at first: the follower retries with backoff."""
    db_path = tmp_path / "missing-dir" / "handoff.db"  # SQLite cannot open it until the directory exists
    engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
    try:
        await broker.put(user_event("down-1", "hello?", T0))
        src = source(broker.url, make_sessionmaker(engine), bus)
        task = ConsumerTask(src)
        task.start()
        await until(lambda: _true(src.backoff.failures >= 2))
        assert task.running
        db_path.parent.mkdir()
        await upgrade(engine)
        await until(lambda: _eq(cursor(make_sessionmaker(engine), broker.url), 1))
        await task.stop()
        assert src.backoff.failures == 0
        assert [line.text for line in await transcript(make_sessionmaker(engine), "down-1")] == ["hello?"]
    finally:
        await engine.dispose()


async def test_a_batch_commits_with_its_cursor_or_not_at_all(
    broker: SqlBroker,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(2):
        await broker.put(user_event("atomic-1", f"a{i}", T0 + i))
    src = source(broker.url, sessionmaker, bus)
    await drain(src)
    for i in range(2, 5):
        await broker.put(user_event("atomic-1", f"a{i}", T0 + i))
    real = common.record_event
    calls = 0

    async def fails_on_the_second(**kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process dies mid-batch")
        return await real(**kw)

    monkeypatch.setattr(common, "record_event", fails_on_the_second)
    with pytest.raises(RuntimeError):
        await src.step()
    assert [line.text for line in await transcript(sessionmaker, "atomic-1")] == ["a0", "a1"]  # a2 rolled back too
    assert await cursor(sessionmaker, broker.url) == 2
    monkeypatch.setattr(common, "record_event", real)
    await drain(src)
    assert [line.text for line in await transcript(sessionmaker, "atomic-1")] == [f"a{i}" for i in range(5)]
    assert await cursor(sessionmaker, broker.url) == 5
