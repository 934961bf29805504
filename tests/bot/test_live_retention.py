"""Retention across the processes (stack/live.py): a customer talks to the
real Rasa server, is handed off through the action server to the real
handoff service, an agent works and resolves the ticket; then every store
the product wrote (Rasa's tracker store and SQL event broker, the action
server's outbox, the handoff service's database) is aged past the purge age
and the purges the product runs are run as their commands. Nothing of the
conversation is left in any table of any of them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

from stack.live import BOT_BIN, HANDOFF_PY, ROOT, LiveStack, ticket_number_in, wait_for

AGE_DAYS = 400  # past the purge age (365 days)
CARD = "4111111111111111"
IBAN = "TR33-0006-1005-1978-6457-8413-26"


def _sqlite_files(tmp: Path) -> list[Path]:
    files = sorted(tmp.glob("*.db"))
    assert {f.name for f in files} >= {"handoff.db", "tracker.db", "events.db", "outbox.db"}
    return files


def _every_row(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(f"{n}: {conn.execute(f'SELECT * FROM {n}').fetchall()!r}" for n in names)


def _age(tmp: Path, days: int) -> None:
    """Move every timestamp of every store back ``days``."""
    seconds = days * 86400
    with sqlite3.connect(tmp / "tracker.db") as conn:  # Rasa's tracker store: epoch seconds, and in the JSON
        rows = conn.execute("SELECT id, data FROM events").fetchall()
        conn.execute("UPDATE events SET timestamp = timestamp - ?", (seconds,))
        for row_id, data in rows:
            event = json.loads(data)
            event["timestamp"] -= seconds
            conn.execute("UPDATE events SET data = ? WHERE id = ?", (json.dumps(event), row_id))
    with sqlite3.connect(tmp / "events.db") as conn:  # Rasa's SQL event broker: the time is in the JSON
        for row_id, data in conn.execute("SELECT id, data FROM events").fetchall():
            event = json.loads(data)
            event["timestamp"] -= seconds
            conn.execute("UPDATE events SET data = ? WHERE id = ?", (json.dumps(event), row_id))
    with sqlite3.connect(tmp / "outbox.db") as conn:  # epoch seconds
        conn.execute(
            "UPDATE outbox SET created_at = created_at - ?, delivered_at = delivered_at - ?", (seconds, seconds)
        )
    with sqlite3.connect(tmp / "handoff.db") as conn:  # every DATETIME column of every table
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in conn.execute(f"PRAGMA table_info({table})").fetchall():
                if column[2].upper() == "DATETIME":
                    conn.execute(
                        f"UPDATE {table} SET {column[1]} = strftime('%Y-%m-%d %H:%M:%f', {column[1]}, ?) "
                        f"WHERE {column[1]} IS NOT NULL",
                        (f"-{days} days",),
                    )


def _run(stack: LiveStack, *args: str) -> str:
    env = {**stack.env, "RASA_ENDPOINTS": str(stack.tmp / "endpoints.yml"), "HANDOFF_PURGE_AFTER_DAYS": "365"}
    done = subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_after_the_purge_age_no_store_keeps_anything_of_a_conversation(tmp_path: Path) -> None:
    stack = LiveStack(tmp_path)
    sender, username = f"retention-{uuid.uuid4().hex[:8]}", "gonecust_ayse7"
    try:
        stack.start()
        stack.say(sender, "merhaba, dün yaptığım para çekme hala hesabıma gelmedi")
        stack.say(sender, "17.08.1985")
        stack.say(sender, "hayır")
        stack.say(sender, username)
        number = ticket_number_in(stack.say(sender, "evet"))
        stack.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
        assert stack.say(sender, f"IBAN'ım {IBAN}, kartno{CARD}") == []  # to the agent
        wait_for(lambda: len(stack.transcript("agent_finance", number)) > 2)
        stack.as_agent("agent_finance", "POST", f"/tickets/{number}/reply", {"text": f"{username}, bakıyorum"})
        stack.as_agent("agent_finance", "POST", f"/tickets/{number}/resolve", {"note": f"iade kartno{CARD}"})
        stack.as_agent("supervisor", "GET", f"/tickets?username={username}")
        conversation_id = stack.conversation_id(sender)  # the id the channel issued
        stack.as_agent("supervisor", "GET", f"/conversations/{conversation_id}/events")
        wait_for(lambda: stack.tracker(sender)["paused"] is False)  # resolved: the bot has it back
    finally:
        stack.stop()
    files = _sqlite_files(tmp_path)
    for store in ("tracker.db", "events.db", "handoff.db", "outbox.db"):
        assert conversation_id in _every_row(tmp_path / store), store  # every store holds the conversation

    _age(tmp_path, AGE_DAYS)
    print(_run(stack, str(HANDOFF_PY), "-m", "handoff", "retention"))
    print(_run(stack, str(BOT_BIN / "python"), "-m", "actions.outbox_worker", "purge"))
    print(_run(stack, str(BOT_BIN / "python"), "-m", "bot.retention"))

    for path in files:
        left = _every_row(path)
        for trace in (conversation_id, username, CARD, IBAN, number):
            assert trace not in left, f"{trace!r} left in {path.name}"
