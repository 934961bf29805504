import asyncio

from actions.core.handoff_client import HandoffClient
from actions.core.outbox import Outbox
from actions.outbox_worker import deliver_pending
from conftest import SERVICE_TOKEN


def _summary(conversation_id: str = "c-1") -> dict:
    return {"conversation_id": conversation_id, "department": "finance", "schema_version": 1}


def test_the_outbox_survives_a_restart(tmp_path) -> None:
    first = Outbox(tmp_path / "outbox.db")
    first.add("c-1:m1", "c-1", _summary())
    first.add("c-1:m1", "c-1", _summary())  # the same handoff twice is kept once
    reopened = Outbox(tmp_path / "outbox.db")
    pending = reopened.pending()
    assert [p.idempotency_key for p in pending] == ["c-1:m1"]
    assert pending[0].payload == _summary()


def test_pending_handoffs_are_retried_until_accepted(tmp_path, handoff_service) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.add("c-1:m1", "c-1", _summary("c-1"))
    outbox.add("c-2:m1", "c-2", _summary("c-2"))
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)

    handoff_service.stop()  # the service is down
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    assert len(Outbox(tmp_path / "outbox.db").pending()) == 2  # still there after a "restart"

    handoff_service.start()  # back on the same port
    assert asyncio.run(deliver_pending(outbox, client)) == 2
    assert outbox.pending() == []
    assert outbox.receipt("c-1:m1")["ticket_number"].startswith("T-")
    assert len(handoff_service.tickets) == 2


def test_a_retry_of_an_accepted_handoff_creates_no_second_ticket(tmp_path, handoff_service) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)
    first = asyncio.run(client.create_handoff(_summary(), "c-1:m1"))
    outbox.add("c-1:m1", "c-1", _summary())  # e.g. the action server died before marking it
    asyncio.run(deliver_pending(outbox, client))
    assert outbox.receipt("c-1:m1")["ticket_number"] == first.ticket_number
    assert len(handoff_service.tickets) == 1


def test_server_errors_keep_the_handoff_pending(tmp_path, handoff_service) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.add("c-1:m1", "c-1", _summary())
    client = HandoffClient(handoff_service.url, SERVICE_TOKEN, timeout_seconds=2)
    handoff_service.fail_with = 503
    assert asyncio.run(deliver_pending(outbox, client)) == 0
    assert outbox.pending()[0].attempts == 1
    handoff_service.fail_with = None
    assert asyncio.run(deliver_pending(outbox, client)) == 1
