"""Identity verification over a real socket, on SQLite and PostgreSQL: the
kind from the topic, asking for documents, approve and reject with the
access rules, the customer's record and what the customer is told."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from handoff.models import AuditEntry, CustomerRecord, utcnow
from handoff.services.retention import apply_retention
from handoff.services.verification import verification_view
from tests.handoff.conftest import Running
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login
from tests.handoff.test_api_bot import assert_error

VERIFICATION_TOPIC = {"id": "verification", "label": "Kimlik doğrulama"}


async def _handoff(client: httpx.AsyncClient, department: str = "account", **overrides: Any) -> str:
    body = summary(department, **overrides)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(body["conversation_id"]))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def _verification(client: httpx.AsyncClient, **overrides: Any) -> str:
    values: dict[str, Any] = {"topic": VERIFICATION_TOPIC, "transaction_type": None, "transaction_date": None}
    values.update(overrides)
    return await _handoff(client, "account", **values)


async def _ticket(client: httpx.AsyncClient, number: str, headers: dict[str, str]) -> dict[str, Any]:
    res = await client.get(f"/api/v1/tickets/{number}", headers=headers)
    assert res.status_code == 200, res.text
    data: dict[str, Any] = res.json()
    return data


async def test_triage_makes_a_verification_topic_a_verification_request(client: httpx.AsyncClient) -> None:
    verify = await _verification(client, username="ayse_k", username_source="verified_token")
    support = await _handoff(client, "account", username="ayse_k", username_source="verified_token")
    acc = await login(client, "acc")
    assert (await _ticket(client, verify, acc))["kind"] == "verification"
    later = await _ticket(client, support, acc)
    assert later["kind"] == "support"
    # the customer's record is pending since the verification request
    assert later["customer_verification"]["status"] == "pending"
    queued = (await client.get("/api/v1/queue", headers=acc)).json()["queued"]
    assert {t["ticket_number"]: t["kind"] for t in queued} == {verify: "verification", support: "support"}


async def test_verification_requests_are_expected_to_take_longer(client: httpx.AsyncClient) -> None:
    """Nothing claimed yet: a verification request at position 1 waits H_v
    (900 s), a support request behind it H_v + H."""
    first = await _verification(client, conversation_id="w-1")
    body = summary("account", conversation_id="w-2")
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("w-2"))
    other = await client.post("/api/v1/handoffs", content=json.dumps(summary("technical")), headers=bot_headers("w-3"))
    acc = await login(client, "acc")
    queued = {t["ticket_number"]: t for t in (await client.get("/api/v1/queue", headers=acc)).json()["queued"]}
    assert queued[first]["expected_wait_seconds"] == 900
    assert res.json()["queue_position"] == 2 and res.json()["expected_wait_seconds"] == 900 + 300
    assert other.json()["queue_position"] == 1 and other.json()["expected_wait_seconds"] == 300


async def test_an_account_agent_rejects_with_a_reason_and_the_customer_is_told(
    server: Running, client: httpx.AsyncClient
) -> None:
    number = await _verification(
        client, conversation_id="conv-v1", language="en", username="ayse_k", username_source="verified_token"
    )
    acc = await login(client, "acc")
    reasons = (await client.get("/api/v1/verification/reasons", headers=acc)).json()["reasons"]
    assert {
        "id": "expired",
        "name": {"tr": "Kimlik belgesinin süresi dolmuş", "en": "The identity document has expired"},
    } in reasons
    res = await client.post(
        f"/api/v1/tickets/{number}/verification", json={"decision": "reject", "reason_id": "expired"}, headers=acc
    )
    assert res.status_code == 200, res.text
    shown = res.json()["customer_verification"]
    assert shown["status"] == "rejected" and shown["reason_id"] == "expired"
    assert shown["reason"]["en"] == "The identity document has expired"
    assert shown["decided_by"] == "Ahmet Account" and shown["verified_source"] is True
    assert server.channel.notices == [
        (
            "conv-v1",
            "Your identity verification was not approved. Reason: The identity document has expired."
            " Please upload new documents.",
        )
    ]
    async with server.app.ctx.sessionmaker() as session:
        view = await verification_view(session=session, username="ayse_k")
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "verification_decision"))
        ).scalars()
        entries = list(audit)
    assert view is not None and view["status"] == "rejected" and view["reason_id"] == "expired"
    assert view["reason"] == {"tr": "Kimlik belgesinin süresi dolmuş", "en": "The identity document has expired"}
    assert view["decided_at"] == shown["decided_at"]
    assert [(e.actor, e.detail) for e in entries] == [("acc", {"decision": "reject", "reason_id": "expired"})]


async def test_a_supervisor_approves_and_a_later_ticket_shows_it(server: Running, client: httpx.AsyncClient) -> None:
    number = await _verification(
        client, conversation_id="conv-v2", language="tr", username="ayse_k", username_source="verified_token"
    )
    boss = await login(client, "boss")
    res = await client.post(f"/api/v1/tickets/{number}/verification", json={"decision": "approve"}, headers=boss)
    assert res.status_code == 200, res.text
    assert server.channel.notices == [("conv-v2", "Kimlik doğrulamanız onaylandı. Teşekkür ederiz!")]
    later = await _handoff(client, "finance", username="ayse_k", username_source="verified_token")
    shown = (await _ticket(client, later, await login(client, "fin")))["customer_verification"]
    assert shown["status"] == "approved" and shown["reason"] is None and shown["decided_by"] == "Selin Supervisor"


async def test_who_may_decide_and_what_is_refused(client: httpx.AsyncClient) -> None:
    number = await _verification(client, username="ayse_k", username_source="verified_token")
    support = await _handoff(client, "account")
    fin_ticket = await _handoff(client, "finance")
    acc, fin = await login(client, "acc"), await login(client, "fin")
    approve = {"decision": "approve"}
    # another department's agent does not see the ticket: the same answer as a missing one
    missing = await client.post("/api/v1/tickets/T-999999/verification", json=approve, headers=acc)
    hidden = await client.post(f"/api/v1/tickets/{number}/verification", json=approve, headers=fin)
    assert_error(missing, 404, "ticket_not_found")
    assert_error(hidden, 404, "ticket_not_found")
    assert hidden.json() == missing.json()
    assert_error(await client.post(f"/api/v1/tickets/{number}/verification", json=approve), 401)
    # a finance agent who asked for documents on their own ticket may not decide on it
    await client.post(f"/api/v1/tickets/{fin_ticket}/claim", headers=fin)
    assert (await client.post(f"/api/v1/tickets/{fin_ticket}/request-documents", headers=fin)).status_code == 200
    assert_error(
        await client.post(f"/api/v1/tickets/{fin_ticket}/verification", json=approve, headers=fin), 403, "forbidden"
    )
    assert_error(
        await client.post(f"/api/v1/tickets/{support}/verification", json=approve, headers=acc), 409, "not_verification"
    )
    url = f"/api/v1/tickets/{number}/verification"
    assert_error(await client.post(url, json={"decision": "reject"}, headers=acc), 422, "reason_required")
    bad = await client.post(url, json={"decision": "reject", "reason_id": "no_such_reason"}, headers=acc)
    assert_error(bad, 422, "unknown_reason")
    assert_error(
        await client.post(url, json={"decision": "approve", "reason_id": "expired"}, headers=acc),
        422,
        "reason_not_allowed",
    )
    assert_error(await client.post(url, json={"decision": "maybe"}, headers=acc), 400)
    assert_error(await client.post(url, json={}, headers=acc), 400, "missing_field")
    # nothing was decided by the refused requests
    assert (await _ticket(client, number, acc))["customer_verification"]["status"] == "pending"


async def test_asking_for_documents_makes_any_ticket_a_verification_request(
    server: Running, client: httpx.AsyncClient
) -> None:
    number = await _handoff(client, "account", conversation_id="conv-docs", language="tr", username="mehmet_1")
    acc = await login(client, "acc")
    assert_error(await client.post(f"/api/v1/tickets/{number}/request-documents", headers=acc), 409, "not_assignee")
    await client.post(f"/api/v1/tickets/{number}/claim", headers=acc)
    res = await client.post(f"/api/v1/tickets/{number}/request-documents", headers=acc)
    assert res.status_code == 200, res.text
    assert res.json()["kind"] == "verification"
    [(conversation, text)] = server.channel.document_requests
    assert conversation == "conv-docs"
    assert text.startswith("Kimliğinizi doğrulamamız gerekiyor.") and "pasaport" in text and "fatura" in text
    shown = (await _ticket(client, number, acc))["customer_verification"]
    # a typed username: the record is kept for agents, marked so, and not the customer's own
    assert shown["status"] == "pending" and shown["verified_source"] is False
    res = await client.post(
        f"/api/v1/tickets/{number}/verification", json={"decision": "reject", "reason_id": "unreadable"}, headers=acc
    )
    assert res.status_code == 200
    async with server.app.ctx.sessionmaker() as session:
        assert await verification_view(session=session, username="mehmet_1") is None
    assert server.channel.notices[-1][1].startswith("Kimlik doğrulamanız onaylanmadı. Neden: Belge okunamıyor")


async def test_a_typed_username_never_overwrites_a_proven_record(client: httpx.AsyncClient) -> None:
    proven = await _verification(client, username="ayse_k", username_source="verified_token")
    typed = await _verification(client, username="ayse_k", username_source="typed")
    acc = await login(client, "acc")
    assert (
        await client.post(f"/api/v1/tickets/{proven}/verification", json={"decision": "approve"}, headers=acc)
    ).status_code == 200
    refused = await client.post(
        f"/api/v1/tickets/{typed}/verification", json={"decision": "reject", "reason_id": "expired"}, headers=acc
    )
    assert_error(refused, 409, "verified_record")
    assert (await _ticket(client, typed, acc))["customer_verification"]["status"] == "approved"


async def test_a_ticket_without_username_cannot_keep_an_outcome(client: httpx.AsyncClient) -> None:
    number = await _verification(client, username=None, username_source=None)
    acc = await login(client, "acc")
    assert (await _ticket(client, number, acc))["customer_verification"]["status"] == "none"
    res = await client.post(f"/api/v1/tickets/{number}/verification", json={"decision": "approve"}, headers=acc)
    assert_error(res, 409, "no_username")


async def test_retention_forgets_old_records_no_ticket_names(server: Running, client: httpx.AsyncClient) -> None:
    await _verification(client, username="still_here", username_source="verified_token")
    old = utcnow() - timedelta(days=400)
    async with server.app.ctx.sessionmaker() as session, session.begin():
        session.add(
            CustomerRecord(username="long_gone", verified_source=True, verification_status="approved", updated_at=old)
        )
        record = await session.get(CustomerRecord, "still_here")
        assert record is not None
        record.updated_at = old
    async with server.app.ctx.sessionmaker() as session, session.begin():
        result = await apply_retention(session=session, archive_after_days=30, purge_after_days=365)
    assert result.customers == 1
    async with server.app.ctx.sessionmaker() as session:
        assert await session.get(CustomerRecord, "long_gone") is None
        assert await session.get(CustomerRecord, "still_here") is not None  # a ticket still names it
