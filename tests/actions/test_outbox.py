"""The outbox on SQLite (the default) and on this machine's PostgreSQL
(several action servers), and the worker that empties it."""

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy
from action_services import SERVICE_TOKEN

from actions.core.handoff_client import HandoffClient
from actions.core.outbox import Outbox
from actions.outbox_worker import deliver_pending

PG_ADMIN = os.environ.get("BOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of this module's own on the machine's PostgreSQL."""
    name = f"outbox_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path, postgres_url) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "outbox.db")
        return
    yield postgres_url
    cleanup = Outbox(postgres_url)
    with cleanup._engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox")
    cleanup.close()


def _summary(conversation_id: str = "c-1") -> dict:
    return {"conversation_id": conversation_id, "department": "finance", "schema_version": 1}


def test_the_outbox_survives_a_restart(location) -> None:
    first = Outbox(location)
    first.add("c-1:m1", "c-1", _summary())
    first.add("c-1:m1", "c-1", _summary())  # the same handoff twice is kept once
    reopened = Outbox(location)
    pending = reopened.pending()
    assert [p.idempotency_key for p in pending] == ["c-1:m1"]
    assert pending[0].payload == _summary()


def test_pending_handoffs_are_retried_until_accepted(location, handoff_service) -> None:
    outbox = Outbox(location)
    outbox.add("c-1:m1", "c-1", _summary("c-1"))
    outbox.add("c-2:m1", "c-2", _summary("c-2"))
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)

    handoff_service.stop()  # the service is down
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    assert len(Outbox(location).pending(now=time.time() + 60)) == 2  # still there after a "restart"

    handoff_service.start()  # back on the same port
    assert asyncio.run(deliver_pending(outbox, client)) == 0  # each waits its retry delay
    assert asyncio.run(deliver_pending(outbox, client, now=time.time() + 60)) == 2
    assert outbox.pending() == []
    assert outbox.receipt("c-1:m1")["ticket_number"].startswith("T-")
    assert len(handoff_service.tickets) == 2


def test_a_retry_of_an_accepted_handoff_creates_no_second_ticket(location, handoff_service) -> None:
    outbox = Outbox(location)
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)
    first = asyncio.run(client.create_handoff(_summary(), "c-1:m1"))
    outbox.add("c-1:m1", "c-1", _summary())  # e.g. the action server died before marking it
    asyncio.run(deliver_pending(outbox, client))
    assert outbox.receipt("c-1:m1")["ticket_number"] == first.ticket_number
    assert len(handoff_service.tickets) == 1


def test_server_errors_keep_the_handoff_pending(location, handoff_service) -> None:
    outbox = Outbox(location)
    outbox.add("c-1:m1", "c-1", _summary())
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)
    handoff_service.fail_with = 503
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    assert outbox.pending(now=time.time() + 60)[0].attempts == 1
    handoff_service.fail_with = None
    assert asyncio.run(deliver_pending(outbox, client, now=time.time() + 60)) == 1


def test_replicas_on_postgresql_share_one_outbox(postgres_url, handoff_service) -> None:
    """Two action servers and a worker: the same handoff added by both at
    once is kept once, and the worker (a third process) delivers it."""
    drop = Outbox(postgres_url)
    with drop._engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE outbox")
    drop.close()
    with ThreadPoolExecutor(max_workers=3) as pool:  # three processes starting at once create the table once
        replicas = list(pool.map(lambda _: Outbox(postgres_url), range(3)))
    try:
        keys = [f"c-{i}:m1" for i in range(20)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(
                pool.map(
                    lambda args: replicas[args[0] % 2].add(
                        args[1], args[1].split(":")[0], _summary(args[1].split(":")[0])
                    ),
                    enumerate(keys + keys),
                )
            )
        worker = replicas[2]
        assert sorted(p.idempotency_key for p in worker.pending()) == sorted(keys)
        client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=5)
        assert asyncio.run(deliver_pending(worker, client)) == 20
        assert replicas[0].pending() == [] and replicas[1].receipt("c-3:m1")["ticket_number"].startswith("T-")
        assert len(handoff_service.tickets) == 20
    finally:
        for outbox in replicas:
            with outbox._engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM outbox")
            outbox.close()


def test_a_database_url_or_a_file_path() -> None:
    from actions.core.outbox import outbox_url
    from actions.core.settings import Settings

    assert outbox_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert outbox_url("/var/lib/triage/outbox.db") == "sqlite:////var/lib/triage/outbox.db"
    assert Settings.from_env({"OUTBOX_PATH": "/tmp/o.db"}).outbox_url == "sqlite:////tmp/o.db"
    assert (
        Settings.from_env({"OUTBOX_PATH": "/tmp/o.db", "OUTBOX_URL": "postgresql://u@h/db"}).outbox_url
        == "postgresql://u@h/db"
    )


def test_a_refused_handoff_becomes_a_dead_letter_a_supervisor_sees_and_retries(
    location, handoff_service, capsys
) -> None:
    from action_services import make_services

    from actions.core.outbox import letter_handle
    from actions.outbox_worker import main

    outbox = Outbox(location)
    outbox.add("c-bad:m1", "c-bad", {**_summary("c-bad"), "topic": {"id": "deposit"}})
    outbox.add("c-ok:m1", "c-ok", _summary("c-ok"))
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)
    handoff_service.fail_for["c-bad"] = 422
    assert asyncio.run(deliver_pending(outbox, client)) == 1
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    assert handoff_service.attempts.count("c-bad") == 1  # refused once, never retried on its own
    assert outbox.pending() == []
    [letter] = outbox.dead_letters()
    assert (letter.handle, letter.attempts, letter.department, letter.topic) == (
        letter_handle("c-bad:m1"),
        1,
        "finance",
        "deposit",
    )
    assert "422" in letter.error

    # what a supervisor runs on the action server's host
    services = make_services(Path("/nonexistent"), handoff_service.url)
    services.__dict__["outbox"] = outbox  # the outbox under test (cached_property slot)
    assert main(["dead-letters"], services) == 0
    listing = capsys.readouterr().out
    assert letter.handle in listing and "finance/deposit" in listing and "422" in listing
    assert "c-bad" not in listing  # the conversation id is not shown
    assert main(["retry", "nosuchhandle"], services) == 1
    del handoff_service.fail_for["c-bad"]
    assert main(["retry", letter.handle], services) == 0
    assert asyncio.run(deliver_pending(outbox, client)) == 1
    assert outbox.dead_letters() == [] and outbox.receipt("c-bad:m1") is not None
    assert main(["dead-letters"], services) == 0 and "no dead letters" in capsys.readouterr().out


def test_failing_handoffs_back_off_and_do_not_starve_newer_ones(location, handoff_service) -> None:
    """A full page (100) of old handoffs the service cannot take yet, and a
    new one: the new one goes out on the next pass instead of waiting behind
    them."""
    outbox = Outbox(location, retry_seconds=60, max_retry_seconds=600)
    for i in range(100):
        handoff_service.fail_for[f"old-{i}"] = 503
        outbox.add(f"old-{i}:m1", f"old-{i}", _summary(f"old-{i}"))
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=5)
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    outbox.add("new:m1", "new", _summary("new"))
    assert asyncio.run(deliver_pending(outbox, client)) == 1
    assert outbox.receipt("new:m1") is not None
    assert handoff_service.attempts.count("old-0") == 1  # waiting its delay, not retried at once
    later = outbox.pending(now=time.time() + 61)
    assert len(later) == 100 and all(p.attempts == 1 for p in later)  # due again after the delay


def test_retry_delays_grow_to_a_limit() -> None:
    from actions.core.outbox import retry_delay

    assert [retry_delay(n, 5, 60) for n in (1, 2, 3, 4, 5, 100)] == [5, 10, 20, 40, 60, 60]


def test_an_outbox_of_an_older_release_gets_the_new_columns(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE outbox (idempotency_key TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, "
            "payload TEXT NOT NULL, created_at FLOAT NOT NULL, attempts INTEGER DEFAULT 0 NOT NULL, "
            "last_error TEXT, delivered_at FLOAT, receipt TEXT)"
        )
        conn.execute("INSERT INTO outbox VALUES ('c-1:m1', 'c-1', '{}', 1.0, 3, 'HTTP 503', NULL, NULL)")
    outbox = Outbox(str(path))
    assert [p.idempotency_key for p in outbox.pending()] == ["c-1:m1"]  # an old pending row is due at once
    outbox.mark_dead("c-1:m1", "HTTP 422")
    assert [d.attempts for d in outbox.dead_letters()] == [4]


def test_the_outbox_forgets_everything_older_than_the_purge_age(location) -> None:
    from actions.outbox_worker import purge_old

    outbox = Outbox(location)
    for key in ("old-delivered", "old-pending", "old-dead", "fresh"):
        outbox.add(f"{key}:m1", key, _summary(key))
    outbox.mark_delivered("old-delivered:m1", {"ticket_number": "x"})
    outbox.mark_dead("old-dead:m1", "HTTP 422")
    with outbox._engine.begin() as conn:  # age three of them past 365 days
        conn.execute(
            sqlalchemy.text("UPDATE outbox SET created_at = created_at - :age WHERE idempotency_key LIKE :old"),
            {"age": 400 * 86400, "old": "old-%"},
        )
    assert purge_old(outbox, 365) == 3
    with outbox._engine.connect() as conn:
        left = [row[0] for row in conn.exec_driver_sql("SELECT conversation_id FROM outbox")]
    assert left == ["fresh"]
