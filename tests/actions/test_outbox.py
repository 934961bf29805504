"""The outbox on SQLite (the default) and on this machine's PostgreSQL
(several action servers), and the worker that empties it."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
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
    assert len(Outbox(location).pending()) == 2  # still there after a "restart"

    handoff_service.start()  # back on the same port
    assert asyncio.run(deliver_pending(outbox, client)) == 2
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
    assert outbox.pending()[0].attempts == 1
    handoff_service.fail_with = None
    assert asyncio.run(deliver_pending(outbox, client)) == 1


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
