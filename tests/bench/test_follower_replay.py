"""bench/follower_replay.py: Rasa's events of a run written again a turn at
a time, every one read by the follower into a fresh handoff database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from bench.follower_replay import replay
from tests.handoff.rasa_events import T0, bot_event, other_events, user_event


def test_every_event_is_followed_and_its_cpu_counted(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
    rows = []
    for turn in range(6):
        conv = f"replay-{turn % 2}"
        for event in [user_event(conv, f"mesaj {turn}", T0 + turn), *other_events(conv, T0 + turn)]:
            rows.append(event)
        rows.append(bot_event(conv, f"yanıt {turn}", T0 + turn + 0.5))
    conn.executemany(
        "INSERT INTO events (sender_id, data) VALUES (?, ?)", [(e["sender_id"], json.dumps(e)) for e in rows]
    )
    conn.commit()
    conn.close()
    count, used = asyncio.run(replay(db, step=6))
    assert count == len(rows) == 36  # replay() checks the follower moved past each of them
    assert used > 0
