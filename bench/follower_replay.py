"""What the SQL follower costs per event: Rasa's events of a real run
(``events.db`` of a stack kept with ``bench.bot_latency --keep``) are written
again into a fresh events file a turn's rows at a time, and after each
write the handoff service's follower (handoff/broker/sql.py, on a fresh
SQLite handoff database) reads what is new, as it does after each of
Rasa's commits. Prints the CPU time of the process (its event loop and
aiosqlite's thread) per event and per turn, the median of ``--runs``.

Run with the handoff environment:
``PYTHONPATH=rules:. .venv/handoff/bin/python -m bench.follower_replay EVENTS_DB``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from handoff.broker.sql import SqlEventSource
from handoff.db import make_engine, make_sessionmaker
from handoff.live_bus import InMemoryLiveBus
from handoff.models import Base


async def replay(source_db: Path, step: int) -> tuple[int, float]:
    """(events, CPU seconds the follower used for them)."""
    rows = sqlite3.connect(source_db).execute("SELECT id, sender_id, data FROM events ORDER BY id").fetchall()
    tmp = Path(tempfile.mkdtemp(prefix="follower-replay-"))
    events = sqlite3.connect(tmp / "events.db")
    events.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
    events.commit()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp / 'handoff.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        follower = SqlEventSource(
            events_url=f"sqlite+aiosqlite:///{tmp / 'events.db'}",
            sessionmaker=make_sessionmaker(engine),
            bus=InMemoryLiveBus(),
            use_inotify=False,
        )
        used = 0.0
        for start in range(0, len(rows), step):
            events.executemany("INSERT INTO events VALUES (?, ?, ?)", rows[start : start + step])
            events.commit()
            began = time.process_time()
            while await follower.step():  # the read after a commit, and the one that finds nothing
                pass
            used += time.process_time() - began
        assert follower.consumed == len(rows), (follower.consumed, len(rows))
        await follower.aclose()
        return len(rows), used
    finally:
        await engine.dispose()
        events.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events_db", type=Path)
    parser.add_argument("--step", type=int, default=11, help="rows per write (a turn of bench.bot_latency: 11)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    per_event = []
    for run in range(args.runs):
        count, used = asyncio.run(replay(args.events_db, args.step))
        per_event.append(1000 * used / count)
        print(f"run {run + 1}/{args.runs}: {count} events, {per_event[-1]:.3f} ms CPU per event", flush=True)
    middle = statistics.median(per_event)
    print(f"median: {middle:.3f} ms CPU per event, {middle * args.step:.1f} ms per {args.step}-row turn")


if __name__ == "__main__":
    main()
