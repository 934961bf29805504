"""bot/retention.py: Rasa's own stores, written by Rasa's classes as the
Rasa server writes them (our redacting SQL tracker store publishing to
Rasa's SQL event broker), forget a conversation after the purge age, on
SQLite (make run) and PostgreSQL (the deployment's tracker store)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.retention import main
from bot.settings import Settings

PG_URL = os.environ.get("BOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = 86400.0
USERNAME = "ayse_gone42"
IBAN = "TR33-0006-1005-1978-6457-8413-26"  # dashed: whatever masking does, the purge removes it


def _conversation(sender: str, at: float) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    for event in (
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at),
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(f"kullanıcı adım {USERNAME}, IBAN {IBAN}", {"name": "inform", "confidence": 0.9}, timestamp=at + 1),
        SlotSet("username", USERNAME, timestamp=at + 2),
        BotUttered("Teşekkürler.", timestamp=at + 3),
        ActionExecuted("action_listen", timestamp=at + 4),
    ):
        tracker.update(event)
    return tracker


def _database(kind: str, tmp_path: Path, name: str) -> tuple[str, sa.engine.Engine, list[str]]:
    """(endpoints block, engine to inspect, clean-up statements) for one store."""
    if kind == "sqlite":
        path = tmp_path / f"{name}.db"
        return f"dialect: sqlite\n  db: {path}", sa.create_engine(f"sqlite:///{path}"), []
    db = f"bot_{name}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    url = sa.engine.make_url(PG_URL)
    block = (
        f"dialect: postgresql\n  url: {url.host}\n  port: {url.port or 5432}\n  db: {db}\n  username: {url.username}"
    )
    return block, sa.create_engine(url.set(database=db)), [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)']


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path: Path) -> Iterator[tuple[Path, sa.engine.Engine, sa.engine.Engine]]:
    tracker_block, tracker_db, drop_tracker = _database(request.param, tmp_path, "tracker")
    broker_block, broker_db, drop_broker = _database(request.param, tmp_path, "events")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: bot.tracker_store.RedactingSQLTrackerStore\n  "
        f"{tracker_block}\nevent_broker:\n  type: SQL\n  {broker_block}\nlock_store:\n  type: in_memory\n",
        encoding="utf-8",
    )
    yield endpoints, tracker_db, broker_db
    tracker_db.dispose()
    broker_db.dispose()
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in drop_tracker + drop_broker:
            conn.execute(sa.text(statement))
    admin.dispose()


def _every_row(engine: sa.engine.Engine) -> str:
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        assert "events" in names
        return "\n".join(f"{n}: {[tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM {n}'))]!r}" for n in names)


async def _talk(endpoints: Path, conversations: dict[str, float]) -> None:
    """What the Rasa server does: the tracker store saves each turn and
    publishes its events to the SQL event broker."""
    broker = await EventBroker.create(read_endpoint_config(str(endpoints), "event_broker"))
    store = TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), event_broker=broker)
    for sender, at in conversations.items():
        await store.save(_conversation(sender, at))
    store.engine.dispose()  # type: ignore[attr-defined]
    await broker.close()


def test_rasa_stores_forget_a_conversation_after_the_purge_age(
    stores: tuple[Path, sa.engine.Engine, sa.engine.Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoints, tracker_db, broker_db = stores
    gone, live = f"gone-{uuid.uuid4().hex[:8]}", f"live-{uuid.uuid4().hex[:8]}"
    now = time.time()
    asyncio.run(_talk(endpoints, {gone: now - 400 * DAY, live: now - DAY}))
    for engine in (tracker_db, broker_db):
        assert gone in _every_row(engine) and live in _every_row(engine)

    settings = Settings.from_env({"RASA_ENDPOINTS": str(endpoints), "HANDOFF_PURGE_AFTER_DAYS": "365"})
    assert main([], settings) == 0
    out = capsys.readouterr().out
    assert "forgot 1 conversation(s)" in out and "7 event broker row(s)" in out

    for engine in (tracker_db, broker_db):
        left = _every_row(engine)
        assert gone not in left and live in left
    assert main([], settings) == 0  # again: nothing more to do
    assert "forgot 0 conversation(s) (0 tracker event(s)) and 0 event broker row(s)" in capsys.readouterr().out


def test_a_long_conversation_still_going_keeps_its_history(
    stores: tuple[Path, sa.engine.Engine, sa.engine.Engine],
) -> None:
    endpoints, tracker_db, _ = stores
    sender = f"long-{uuid.uuid4().hex[:8]}"
    now = time.time()
    asyncio.run(_talk(endpoints, {sender: now - 400 * DAY}))
    # the customer is back today: later turns of the same conversation
    with tracker_db.begin() as conn:
        conn.execute(
            sa.text("UPDATE events SET timestamp = :now WHERE id = (SELECT max(id) FROM events)"), {"now": now}
        )
    assert main([], Settings.from_env({"RASA_ENDPOINTS": str(endpoints)})) == 0
    with tracker_db.connect() as conn:
        kept = conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
    assert kept == 7


def test_the_purge_age_is_the_one_of_every_store() -> None:
    assert Settings.from_env({}).purge_after_days == 365
    assert Settings.from_env({"HANDOFF_PURGE_AFTER_DAYS": "30"}).purge_after_days == 30
    assert Settings.from_env({"RASA_ENDPOINTS": "deploy/endpoints.cluster.yml"}).endpoints_path == Path(
        "deploy/endpoints.cluster.yml"
    )
