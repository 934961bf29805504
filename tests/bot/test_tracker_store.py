"""Birth dates and secrets never reach the tracker store, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import MASK, RedactingSQLTrackerStore

PG_URL = os.environ.get("BOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _conversation() -> DialogueStateTracker:
    tracker = DialogueStateTracker("customer-1", slots=[])
    for event in (
        SlotSet("session_started_metadata", {"customer_token": "eyJhbGciOiJIUzI1NiJ9.signed.token"}),
        UserUttered(
            "merhaba",
            {"name": "greet", "confidence": 0.9},
            parse_data={"text": "merhaba", "metadata": {"customer_token": "eyJhbGciOiJIUzI1NiJ9.signed.token"}},
            metadata={"customer_token": "eyJhbGciOiJIUzI1NiJ9.signed.token", "language": "tr"},
        ),
        ActionExecuted("age_form"),
        ActiveLoop("age_form"),
        SlotSet("requested_slot", "birth_date"),
        ActionExecuted("action_listen"),
        UserUttered("04.05.1990", {"name": "inform", "confidence": 0.9}, parse_data={"text": "04.05.1990"}),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        ActionExecuted("action_listen"),
        UserUttered("12.11.2026 tarihli yatırımım", {"name": "report_problem", "confidence": 0.9}),
        UserUttered("kartım 4111 1111 1111 1111, şifrem: Gizli123", {"name": "inform", "confidence": 0.9}),
    ):
        tracker.update(event)
    return tracker


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path: Path) -> Iterator[tuple[RedactingSQLTrackerStore, sa.engine.Engine]]:
    domain = Domain.empty()
    if request.param == "sqlite":
        db = tmp_path / "tracker.db"
        yield RedactingSQLTrackerStore(domain, dialect="sqlite", db=str(db)), sa.create_engine(f"sqlite:///{db}")
        return
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"bot_tracker_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL)
    store = RedactingSQLTrackerStore(
        domain, dialect="postgresql", host=url.host, port=url.port, db=name, username=url.username
    )
    engine = sa.create_engine(url.set(database=name))
    yield store, engine
    engine.dispose()
    store.engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_birth_date_answer_and_secrets_are_masked_and_nothing_else(store) -> None:
    tracker_store, engine = store
    asyncio.run(tracker_store.save(_conversation()))
    with engine.connect() as conn:
        rows = [json.loads(r[0]) for r in conn.execute(sa.text("SELECT data FROM events ORDER BY id"))]
    texts = [row.get("text") for row in rows if row.get("event") == "user"]
    assert texts[:3] == ["merhaba", MASK, "12.11.2026 tarihli yatırımım"]
    assert "**** **** **** 1111" in texts[3]
    stored = json.dumps(rows, ensure_ascii=False)
    user_rows = [row for row in rows if row.get("event") == "user"]
    assert user_rows[0]["metadata"] == {"language": "tr"}  # the signed token is used, never kept
    for secret in ("1990", "4111 1111 1111 1111", "Gizli123", "signed.token"):
        assert secret not in stored
    restored = asyncio.run(tracker_store.retrieve("customer-1"))
    assert [e.text for e in restored.events if isinstance(e, UserUttered)][1] == MASK


def _published(broker) -> list[tuple[str, dict]]:
    with broker.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).all()
    return [(sender, {k: v for k, v in json.loads(data).items() if k != "timestamp"}) for sender, data in rows]


def test_a_turns_events_reach_the_sql_broker_in_one_commit_the_same_as_rasas(tmp_path: Path) -> None:
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore

    ours_broker = SQLEventBroker(db=str(tmp_path / "ours-events.db"))
    rasas_broker = SQLEventBroker(db=str(tmp_path / "rasa-events.db"))
    ours = RedactingSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "ours.db"), event_broker=ours_broker
    )
    rasas = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"), event_broker=rasas_broker)
    commits: list[int] = []
    sa.event.listen(ours_broker.engine, "commit", lambda _conn: commits.append(1))

    tracker = _conversation()
    asyncio.run(ours.save(tracker))
    assert len(commits) == 1  # every event of the save in one transaction
    reference = _conversation()
    from bot.tracker_store import redact

    redact(reference.events)  # what our store publishes is masked first
    asyncio.run(rasas.save(reference))
    assert _published(ours_broker) == _published(rasas_broker)
    assert len(_published(ours_broker)) == len(tracker.events)

    tracker.update(UserUttered("ikinci mesaj", {"name": "inform", "confidence": 0.9}))
    asyncio.run(ours.save(tracker))  # one new event: Rasa's own path
    assert _published(ours_broker)[-1][1]["text"] == "ikinci mesaj"
    for store in (ours, rasas):
        store.engine.dispose()
    for broker in (ours_broker, rasas_broker):
        broker.engine.dispose()


def _stored(engine: sa.engine.Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")
        ).all()
    return [tuple(row) for row in rows]


def test_a_save_reads_the_conversation_once_and_stores_and_publishes_what_rasas_does(tmp_path: Path) -> None:
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    from bot.tracker_store import redact

    ours_broker = SQLEventBroker(db=str(tmp_path / "ours-events.db"))
    rasas_broker = SQLEventBroker(db=str(tmp_path / "rasa-events.db"))
    ours = RedactingSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "ours.db"), event_broker=ours_broker
    )
    rasas = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"), event_broker=rasas_broker)
    reads: list[str] = []
    original = ours.retrieve

    async def counted(sender_id: str):
        reads.append(sender_id)
        return await original(sender_id)

    ours.retrieve = counted  # type: ignore[method-assign]
    mine = _conversation()
    reference = DialogueStateTracker.from_dict("customer-1", [e.as_dict() for e in mine.events], [])
    redact(reference.events)
    for extra in (
        [],
        [ActionExecuted("action_listen"), UserUttered("ikinci mesaj", {"name": "inform", "confidence": 0.9})],
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        [UserUttered("yeni oturum", {"name": "greet", "confidence": 0.9}), ActionExecuted("utter_greet")],
    ):
        for tracker in (mine, reference):
            for event in extra:
                tracker.update(event.__class__.from_parameters(event.as_dict()))
        asyncio.run(ours.save(mine))
        asyncio.run(rasas.save(reference))
        assert _stored(ours.engine) == _stored(rasas.engine)
        assert _published(ours_broker) == _published(rasas_broker)
    assert reads == []  # Rasa's own save rebuilt the tracker from the database each time
    assert len(_published(ours_broker)) > len(mine.events)  # the new session's save re-sends, as Rasa's does
    restored, rasas_restored = asyncio.run(original("customer-1")), asyncio.run(rasas.retrieve("customer-1"))
    assert [e.as_dict() for e in restored.events] == [e.as_dict() for e in rasas_restored.events]
    assert restored.events[-1] == ActionExecuted("utter_greet")
    for store in (ours, rasas):
        store.engine.dispose()
    for broker in (ours_broker, rasas_broker):
        broker.engine.dispose()


def test_on_sqlite_the_store_and_rasas_sql_broker_commit_in_wal_mode_and_another_process_reads_them(
    tmp_path: Path,
) -> None:
    import sqlite3

    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = RedactingSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker
    )
    for engine in (store.engine, broker.engine):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert isinstance(engine.pool, sa.pool.QueuePool)  # the file stays open between saves
    tracker = _conversation()
    asyncio.run(store.save(tracker))
    # what the handoff service's follower does: its own connection, no pragmas of its own
    reader = sqlite3.connect(tmp_path / "events.db")
    try:
        published = [json.loads(d) for (d,) in reader.execute("SELECT data FROM events ORDER BY id")]
    finally:
        reader.close()
    assert [e["event"] for e in published] == [e.as_dict()["event"] for e in tracker.events]
    again = asyncio.run(store.retrieve(tracker.sender_id))
    assert again is not None and len(again.events) == len(tracker.events)
    store.engine.dispose()
    broker.engine.dispose()


def test_the_broker_text_is_the_json_rasa_publishes_byte_for_byte() -> None:
    from bot.tracker_store import _Serialised

    for event in _conversation().events:
        made = _Serialised(event)
        for sender in ("customer-1", 'tırnak "ve" ters\\bölü'):
            assert made.broker_text(sender) == json.dumps({"sender_id": sender, **event.as_dict()})
        assert made.text == json.dumps(event.as_dict())
