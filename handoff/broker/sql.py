"""Follows Rasa's SQL event broker: the ``events`` table, by id.

Rasa (``event_broker: {type: SQL, …}``) inserts one row per event,
``events(id INTEGER PK, sender_id VARCHAR(255), data TEXT)`` with the event
as JSON, and creates the table on its first start: until then the follower
waits quietly. The position read so far is a row of ``broker_cursors``,
locked (an update first) and updated in the transaction that stores the
events it covers, so a restart resumes where the last commit left off and
two replicas never process one batch at the same time. The rows after the
follower's own position are read before the lock and used when nobody
moved the cursor meanwhile and no id is missing among them (then a batch
that finds rows reads Rasa's table once; a read that finds none also asks
for the newest id, on the same connection), and the events are stored
without a savepoint each unless the database refuses one
(``handoff.broker.common.apply_events``).

Between reads it waits ``poll_interval`` (0.3 s). On a SQLite file (Rasa's
default, `make run`) a commit changes the file (or its ``-wal``, or deletes
its ``-journal``), and the next read starts then instead of at the end of
the interval:

- on Linux the kernel says so (inotify, ``file_watch.FileWatch``): nothing
  runs until a commit, and the wait between reads is ``watched_poll_interval``
  (5 s), a bound in case a report is lost (another kernel writing a shared
  volume). A WAL commit's last step, the ``-shm`` header after the flush
  of the ``-wal``, raises no report, so a wake-up whose read found nothing
  is followed by reads after growing delays (``RECHECKS``: 2 ms doubling to
  128 ms, then 0.3 s) until one finds rows. Idle, the follower then costs
  next to nothing; a watch that ends (the folder removed) falls back to
  looking;
- elsewhere it looks at the file every ``watch_interval`` (25 ms): a look is
  one ``stat``, far cheaper than a read (a connection and a query), but it
  wakes the process 40 times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, bindparam, func, inspect, select
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff.broker.common import REFUSED, Applied, Backoff, after_commit, apply_events
from handoff.broker.file_watch import FileWatch
from handoff.db import is_sqlite, normalise_url
from handoff.live_bus import LiveBus
from handoff.repo import conversations as conversations_repo
from handoff.services.channel import CustomerChannel
from handoff.services.consumer import BrokerEvent, MalformedEvent, parse_event

__all__ = ["EVENTS", "SqlEventSource", "cursor_name"]

log = logging.getLogger("handoff.broker.sql")
T = TypeVar("T")
# looks after a wake-up whose read found nothing (seconds, one after the
# other while they find nothing): a commit's flush may take a while
RECHECKS = (0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.3)

# Rasa's table (rasa/core/brokers/sql.py), on its own metadata: not ours to migrate.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


def cursor_name(events_url: str) -> str:
    """One cursor per events database (password left out)."""
    rendered = make_url(normalise_url(events_url)).render_as_string(hide_password=True)
    name = f"sql:{rendered}"
    return name if len(name) <= 255 else "sql:" + hashlib.sha256(rendered.encode()).hexdigest()


def _events_engine(url: str) -> AsyncEngine:
    url = normalise_url(url)
    if is_sqlite(url):
        # Rasa's file: no pragmas of ours. The connection stays open between
        # reads (opening one is a thread, the file and its WAL index each
        # time); ``SqlEventSource`` drops it when the file is replaced, so a
        # file that Rasa created anew is read, not the deleted one still open
        return create_async_engine(url, connect_args={"timeout": 30}, pool_size=1, max_overflow=1)
    return create_async_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True)


def _file_identity(path: Path | None) -> tuple[int, int] | None:
    """Which file is at ``path`` now (device, inode); None when none is."""
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


async def _on_events_db(engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """One read of Rasa's database on a connection of ``_events_engine``'s.

    A stop in the middle of a read lets the read finish and its connection
    go back: a SQLite connection abandoned mid-statement would keep its lock on
    Rasa's file, and Rasa's next write would fail with "database is locked".
    """

    async def read() -> T:
        async with engine.connect() as conn:
            return await work(conn)

    reading = asyncio.ensure_future(read())
    try:
        return await asyncio.shield(reading)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await reading
        raise


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite events database (None for other databases)."""
    url = normalise_url(url)
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


FileState = tuple[tuple[int, int, int] | None, ...]


def _commit_files(path: Path) -> tuple[Path, Path, Path]:
    """The file, its ``-wal`` (WAL mode) and its ``-journal`` (rollback mode)."""
    return path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")


def _file_state(path: Path) -> FileState:
    """What a commit to the SQLite file changes: the file and its ``-wal``."""
    found: list[tuple[int, int, int] | None] = []
    for candidate in _commit_files(path)[:2]:
        try:
            stat = os.stat(candidate)
        except OSError:
            found.append(None)
        else:
            found.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def _looks(tries: int, consumed: int, ended: str | None) -> int:
    """How many looks since a report whose read found nothing: none once a
    read finds rows (or after a plain wait), one after a report, one more
    after each recheck that found nothing."""
    if consumed or ended is None:
        return 0
    return 1 if ended == "report" else tries + 1


_NEWEST = select(func.max(EVENTS.c.id))


async def _newest(conn: AsyncConnection) -> int | None:
    return await conn.scalar(_NEWEST)


def _without_gaps(rows: list[Row[Any]], position: int) -> bool:
    """Whether the rows' ids follow ``position`` one by one."""
    return all(row.id == position + offset for offset, row in enumerate(rows, start=1))


class SqlEventSource:
    def __init__(
        self,
        *,
        events_url: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: LiveBus,
        channel: CustomerChannel | None = None,
        batch_size: int = 200,
        poll_interval: float = 0.3,
        watch_interval: float = 0.025,
        watched_poll_interval: float = 5.0,
        use_inotify: bool = True,
        gap_grace: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.events_url = events_url
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.channel = channel
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.watch_interval = watch_interval
        self.watched_poll_interval = watched_poll_interval
        self.use_inotify = use_inotify
        self._watched = _sqlite_path(events_url)
        self._watch: FileWatch | None = None
        self._engine_file: tuple[int, int] | None = None  # the file the open engine reads
        self.gap_grace = gap_grace
        self.backoff = backoff or Backoff()
        self.cursor = cursor_name(events_url)
        self._engine: AsyncEngine | None = None
        self._ready = False
        self._told_waiting = False
        self._position: int | None = None
        self._gap: tuple[int, float] | None = None
        self.consumed = 0  # rows moved past (committed) since start
        # made once: it runs after every commit of Rasa's
        self._after = (
            select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.id > bindparam("position"))
            .order_by(EVENTS.c.id)
            .limit(bindparam("batch_size"))
        )

    async def run(self) -> None:
        """Follow until cancelled; errors (a database down) are retried with backoff."""
        log.info("following Rasa's SQL event broker (%s)", self.cursor)
        if self._watched is not None and self.use_inotify and self._watched.parent.is_dir():
            self._watch = FileWatch.open(_commit_files(self._watched))
        ended, tries = None, 0  # how the last wait ended; looks since a report's read found nothing
        try:
            while True:
                if self._watch is not None:
                    self._watch.changed.clear()  # a commit from now on wakes the wait below
                seen = _file_state(self._watched) if self._watched is not None and self._watch is None else None
                try:
                    consumed = await self.step()
                except Exception as exc:
                    if self.backoff.failures == 0:
                        log.warning("event consumer failed, retrying with backoff: %r", exc, exc_info=True)
                    await self.backoff.wait()
                    continue
                if self.backoff.failures:
                    log.info("event consumer recovered after %d failure(s)", self.backoff.failures)
                    self.backoff.reset()
                # a WAL commit's last step (the -shm header, after the flush of
                # the -wal) raises no report: a wake-up whose read found nothing
                # looks again after RECHECKS' growing delays
                tries = _looks(tries, consumed, ended)
                recheck = RECHECKS[tries - 1] if 0 < tries <= len(RECHECKS) else None
                ended = None
                if consumed < self.batch_size:
                    ended = await self._wait_for_change(seen, recheck=recheck)
        finally:
            await self.aclose()

    async def _wait_for_change(self, seen: FileState | None, *, recheck: float | None = None) -> str | None:
        """``poll_interval``, or less once the SQLite file differs from
        ``seen`` (its state before the last read began, so a commit during
        that read is not waited out); with inotify, until the kernel reports
        a change since the last read began (``watched_poll_interval``), or
        ``recheck`` seconds. "report" when a change ended the wait,
        "recheck" when the ``recheck`` delay did, None otherwise."""
        if self._watch is not None and self._watch.broken:
            self._watch.close()
            self._watch = None  # from now on: look at the file, starting with a read
            return "report"
        if self._watch is not None:
            if recheck is not None:
                return "report" if await self._watch.wait(recheck) else "recheck"
            return "report" if await self._watch.wait(self.watched_poll_interval) else None
        if recheck is not None:
            await asyncio.sleep(recheck)
            return "recheck"
        if self._watched is None or seen is None or self.watch_interval <= 0:
            await asyncio.sleep(self.poll_interval)
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll_interval
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(self.watch_interval, left))
            if _file_state(self._watched) != seen:
                return "report"
        return None

    async def aclose(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        await self.aclose_engine()

    async def aclose_engine(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def step(self) -> int:
        """Process at most one batch; returns how many rows it moved past."""
        replaced = self._watched is not None and _file_identity(self._watched) != self._engine_file
        if self._engine is not None and replaced:
            await self.aclose_engine()  # Rasa's file was replaced (or removed): open the new one
            self._ready = False
        if self._engine is None:
            self._engine_file = _file_identity(self._watched)
            self._engine = _events_engine(self.events_url)
        if not self._ready:
            if not await self._table_exists(self._engine):
                if not self._told_waiting:
                    log.info("Rasa's events table is not there yet (%s); waiting", self.cursor)
                    self._told_waiting = True
                return 0
            self._ready = True
        try:
            try:
                return await self._batch(self._engine, careful=False)
            except REFUSED:
                return await self._batch(self._engine, careful=True)
        except Exception:
            self._ready = False  # look for the table again (file replaced, table dropped)
            raise

    async def _table_exists(self, engine: AsyncEngine) -> bool:
        database = engine.url.database
        if is_sqlite(str(engine.url)) and database and database != ":memory:" and not Path(database).exists():
            return False  # do not create Rasa's file

        async def exists(conn: AsyncConnection) -> bool:
            return bool(await conn.run_sync(lambda c: inspect(c).has_table(EVENTS.name)))

        return await _on_events_db(engine, exists)

    async def _batch(self, engine: AsyncEngine, *, careful: bool) -> int:
        """One transaction: the cursor, the rows after it, their events
        (``apply_events``: ``careful`` after the database refused one), the
        cursor moved past them."""
        known = self._position
        ahead: list[Row[Any]] | None = None
        if known is None:
            if await _on_events_db(engine, _newest) is None:
                return 0
        else:
            # the rows after where this follower left off, read before the
            # lock: they are the batch unless another replica moved the
            # cursor meanwhile, or an id is missing among them (it may
            # commit while the lock is awaited: read again under the lock)
            ahead, newest = await _on_events_db(engine, lambda conn: self._read_ahead(conn, known))
            if not ahead and (newest or 0) >= known:
                return 0  # nothing new (an emptied table goes on below: the cursor restarts at 0)
        consumed = 0
        async with self.sessionmaker() as session, session.begin():
            stored = await conversations_repo.lock_cursor(session=session, name=self.cursor)
            if ahead is not None and stored == known and _without_gaps(ahead, known):
                rows = ahead
            else:
                rows = await _on_events_db(engine, lambda conn: self._read(conn, stored))
            position = stored
            if not rows and (await _on_events_db(engine, _newest) or 0) < position:
                # checked under the lock: another replica may have moved the cursor meanwhile
                log.warning("Rasa's events table restarts below the cursor (%d): reading it from the start", position)
                position = 0
                rows = await _on_events_db(engine, lambda conn: self._read(conn, 0))
            events: list[BrokerEvent] = []
            for row in rows:
                if row.id != position + 1 and self._gap_pending(row.id):
                    break
                try:
                    events.append(parse_event(row.data, sender_id=row.sender_id))
                except MalformedEvent as exc:
                    log.warning("skipped events row %d: %s", row.id, exc)
                position = row.id
                consumed += 1
            results = await apply_events(session, events, careful=careful)
            applied: list[Applied] = [(event, update) for event, update in results if update is not None]
            if position != stored:
                await conversations_repo.set_cursor(session=session, name=self.cursor, position=position)
        self._position = position
        self.consumed += consumed
        await after_commit(self.bus, self.channel, applied)
        return consumed

    async def _read_ahead(self, conn: AsyncConnection, position: int) -> tuple[list[Row[Any]], int | None]:
        """The rows after ``position``; when there are none, also the newest
        id (on the same connection), to notice a table that started again."""
        rows = await self._read(conn, position)
        return rows, None if rows else await _newest(conn)

    async def _read(self, conn: AsyncConnection, position: int) -> list[Row[Any]]:
        return list((await conn.execute(self._after, {"position": position, "batch_size": self.batch_size})).all())

    def _gap_pending(self, row_id: int) -> bool:
        """Ids below ``row_id`` are missing: on PostgreSQL an insert with a
        smaller id may still be committing. Wait ``gap_grace`` seconds from
        when the gap was first seen, then move on (a rolled-back insert
        leaves a gap for good)."""
        now = time.monotonic()
        if self._gap is None or self._gap[0] != row_id:
            self._gap = (row_id, now)
        return now - self._gap[1] < self.gap_grace
