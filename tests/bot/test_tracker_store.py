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
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: a power cut loses no commit
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


# --- the kept rows: retrieve answers what Rasa's would, with one query ---------


def _dicts(tracker: DialogueStateTracker | None) -> list[dict] | None:
    return None if tracker is None else [e.as_dict() for e in tracker.events]


def _statements(engine: sa.engine.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def _domain() -> Domain:
    return Domain.from_dict({"intents": ["greet", "inform"], "slots": {}, "responses": {}})


def test_retrieve_answers_what_rasas_store_does_through_turns_and_a_new_session(store) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    ours, _ = store
    ours.domain = _domain()
    rasas = SQLTrackerStore(_domain(), dialect="sqlite", db=":memory:")
    rasas.engine = ours.engine  # Rasa's own reading of the same rows
    rasas.sessionmaker = sa.orm.session.sessionmaker(bind=ours.engine)
    tracker = DialogueStateTracker("kept-1", slots=[])
    turns = [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        [UserUttered("merhaba", {"name": "greet", "confidence": 0.9}), ActionExecuted("utter_greet")],
        [ActionExecuted("action_listen"), UserUttered("hesabım", {"name": "inform", "confidence": 0.8})],
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        [UserUttered("yeni oturum", {"name": "greet", "confidence": 0.9}), ActionExecuted("utter_greet")],
    ]
    for i, turn in enumerate(turns):
        for event in turn:
            tracker.update(event.__class__.from_parameters(event.as_dict()))
        asyncio.run(ours.save(tracker))
        for _ in range(2):  # the second read comes from the kept rows
            assert _dicts(asyncio.run(ours.retrieve("kept-1"))) == _dicts(asyncio.run(rasas.retrieve("kept-1"))), i
        tracker = asyncio.run(ours.retrieve("kept-1"))
        assert tracker is not None
    texts = [e.get("text") for e in _dicts(tracker) or []]
    assert texts.count("yeni oturum") == 1 and "merhaba" not in texts  # the new session only


def test_a_kept_conversation_is_read_with_one_query(store) -> None:
    ours, _ = store
    ours.domain = _domain()
    tracker = _conversation()
    tracker.sender_id = "kept-2"
    asyncio.run(ours.save(tracker))
    first = asyncio.run(ours.retrieve("kept-2"))
    statements = _statements(ours.engine)
    again = asyncio.run(ours.retrieve("kept-2"))
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1  # the newest id
    assert _dicts(again) == _dicts(first)
    assert again is not first  # a tracker of its own each time: a turn's changes stay its own until saved


def test_another_replicas_rows_and_unsaved_changes_and_deleted_rows(store, tmp_path: Path) -> None:
    ours, engine = store
    ours.domain = _domain()
    tracker = _conversation()
    tracker.sender_id = "kept-3"
    asyncio.run(ours.save(tracker))
    assert asyncio.run(ours.retrieve("kept-3")) is not None  # kept now
    # a turn that failed before its save: its events are not in the next read
    dirty = asyncio.run(ours.retrieve("kept-3"))
    assert dirty is not None
    dirty.update(UserUttered("kaydedilmedi", {"name": "inform", "confidence": 0.9}))
    assert "kaydedilmedi" not in json.dumps(_dicts(asyncio.run(ours.retrieve("kept-3"))))
    # another replica (another store on the same database) adds a turn
    other = RedactingSQLTrackerStore(_domain(), **_same_database(ours))
    theirs = asyncio.run(other.retrieve("kept-3"))
    assert theirs is not None
    theirs.update(UserUttered("öteki kopyadan", {"name": "inform", "confidence": 0.9}))
    asyncio.run(other.save(theirs))
    assert _dicts(asyncio.run(ours.retrieve("kept-3"))) == _dicts(theirs)
    # our next save counts their turn as stored: nothing is inserted twice
    mine = asyncio.run(ours.retrieve("kept-3"))
    assert mine is not None
    mine.update(UserUttered("benden", {"name": "inform", "confidence": 0.9}))
    asyncio.run(ours.save(mine))
    texts = [json.loads(row[5]).get("text") for row in _stored(engine) if row[0] == "kept-3"]
    assert texts.count("öteki kopyadan") == 1 and texts.count("benden") == 1
    # retention deletes the conversation: gone, not served from memory
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = 'kept-3'"))
    assert asyncio.run(ours.retrieve("kept-3")) is None
    other.engine.dispose()


def _same_database(store: RedactingSQLTrackerStore) -> dict:
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": url.database}
    return {"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database, "username": url.username}


def test_only_the_most_recent_conversations_are_kept(tmp_path: Path, monkeypatch) -> None:
    import bot.tracker_store as module

    monkeypatch.setattr(module, "KEPT_CONVERSATIONS", 3)
    ours = RedactingSQLTrackerStore(_domain(), dialect="sqlite", db=str(tmp_path / "lru.db"))
    for n in range(5):
        tracker = DialogueStateTracker(f"lru-{n}", slots=[])
        tracker.update(UserUttered(f"mesaj {n}", {"name": "greet", "confidence": 0.9}))
        asyncio.run(ours.save(tracker))
        asyncio.run(ours.retrieve(f"lru-{n}"))
    assert list(ours._rows) == ["lru-2", "lru-3", "lru-4"]
    assert _dicts(asyncio.run(ours.retrieve("lru-0")))[0]["text"] == "mesaj 0"  # read again from the database
    ours.engine.dispose()


def _saved(store, sender_id: str) -> tuple[RedactingSQLTrackerStore, sa.engine.Engine, DialogueStateTracker]:
    """The store with a domain, one conversation saved, and its tracker as read back."""
    ours, engine = store
    ours.domain = _domain()
    tracker = _conversation()
    tracker.sender_id = sender_id
    asyncio.run(ours.save(tracker))
    read = asyncio.run(ours.retrieve(sender_id))
    assert read is not None
    return ours, engine, read


def test_rows_moved_back_in_time_are_read_again(store) -> None:
    """What tests/bot/test_live_conversation.py does to age a conversation:
    the rows' timestamps change in place, and the next read sees them."""
    ours, engine, before = _saved(store, "kept-4")
    with engine.begin() as conn:
        for row_id, data in conn.execute(sa.text("SELECT id, data FROM events WHERE sender_id = 'kept-4'")).all():
            event = json.loads(data)
            event["timestamp"] -= 7200
            conn.execute(
                sa.text("UPDATE events SET timestamp = :t, data = :d WHERE id = :i"),
                {"t": event["timestamp"], "d": json.dumps(event), "i": row_id},
            )
    after = asyncio.run(ours.retrieve("kept-4"))
    assert after is not None
    assert [e.timestamp for e in after.events] == pytest.approx([e.timestamp - 7200 for e in before.events])


def test_a_row_written_by_another_process_during_a_save_is_not_left_out(store) -> None:
    """Between a save's read and its insert another writer adds a row (a
    lock that expired, a second process): the next read has it."""
    ours, engine, mine = _saved(store, "kept-5")
    other = {"event": "user", "timestamp": mine.events[-1].timestamp + 1, "text": "araya giren", "parse_data": {}}
    row = ours._row
    written: list[int] = []

    def meanwhile(*args, **kwargs):  # called between the save's read and its insert
        if not written:
            with engine.begin() as conn:
                conn.execute(
                    sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                    {"s": "kept-5", "t": other["timestamp"], "d": json.dumps(other)},
                )
            written.append(1)
        return row(*args, **kwargs)

    ours._row = meanwhile  # type: ignore[method-assign]
    mine.update(UserUttered("benim", {"name": "inform", "confidence": 0.9}))
    asyncio.run(ours.save(mine))
    assert written == [1]
    texts = [e.get("text") for e in _dicts(asyncio.run(ours.retrieve("kept-5"))) or []]
    assert "araya giren" in texts and "benim" in texts


def test_an_event_stamped_before_the_sessions_start_is_left_out_as_rasa_does(store) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    ours, _ = store
    ours.domain = _domain()
    rasas = SQLTrackerStore(_domain(), dialect="sqlite", db=":memory:")
    rasas.engine = ours.engine
    rasas.sessionmaker = sa.orm.session.sessionmaker(bind=ours.engine)
    start = 1_800_000_000.0
    tracker = DialogueStateTracker("kept-6", slots=[])
    for event in (ActionExecuted("action_session_start", timestamp=start - 1), SessionStarted(timestamp=start)):
        tracker.update(event)
    asyncio.run(ours.save(tracker))
    tracker = asyncio.run(ours.retrieve("kept-6"))
    assert tracker is not None
    # another replica's clock is behind: its event is stamped before the session began
    tracker.update(UserUttered("geride kalan saat", {"name": "greet", "confidence": 0.9}, timestamp=start - 0.05))
    asyncio.run(ours.save(tracker))
    assert _dicts(asyncio.run(ours.retrieve("kept-6"))) == _dicts(asyncio.run(rasas.retrieve("kept-6")))


def test_rows_are_read_as_pythons_json_reads_them() -> None:
    import json
    import math

    from bot.tracker_store import _loads

    row = json.dumps({"event": "slot", "name": "age_attempts", "value": 2.5, "timestamp": 1765000000.123456})
    assert _loads(row) == json.loads(row)
    # what orjson refuses and json writes
    assert math.isnan(_loads(json.dumps({"value": float("nan")}))["value"])
    for big in (2**70 + 1, -(2**63) - 1, 2**64, 10**30 + 7):
        value = _loads(json.dumps({"value": big, "text": "x"}))["value"]
        assert type(value) is int and value == big
    assert _loads('{"text": "\\u015fifre"}')["text"] == "şifre"
