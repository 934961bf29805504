"""The HTTP contract with the bot (schemas/README.md), over a real socket."""

from __future__ import annotations

import json
import re

import httpx

from tests.handoff.factories import summary
from tests.handoff.helpers import CUSTOMER_STATUS_FIELDS, bot_headers, login, status_headers


async def post_handoff(client: httpx.AsyncClient, key: str = "k1", **kw) -> httpx.Response:
    return await client.post("/api/v1/handoffs", content=json.dumps(summary(**kw)), headers=bot_headers(key))


def assert_error(res: httpx.Response, status: int, code: str | None = None) -> None:
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in res.text


async def test_create_then_replay_returns_same_ticket(client: httpx.AsyncClient) -> None:
    body = json.dumps(summary(conversation_id="conv-a", priority="high"))
    first = await client.post("/api/v1/handoffs", content=body, headers=bot_headers("key-1"))
    again = await client.post("/api/v1/handoffs", content=body, headers=bot_headers("key-1"))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    data = first.json()
    assert set(data) == {"ticket_number", "status", "department", "queue_position", "expected_wait_seconds", "joined"}
    assert data["joined"] is False
    assert data["status"] == "queued" and data["department"] == "finance" and data["queue_position"] == 1
    assert data["ticket_number"].startswith("T-")
    second = await post_handoff(client, "key-2", priority="urgent")
    assert second.status_code == 201 and second.json()["queue_position"] == 1


async def test_status_shows_only_customer_fields(client: httpx.AsyncClient) -> None:
    number = (await post_handoff(client, conversation_id="conv-own")).json()["ticket_number"]
    own = status_headers("conv-own")
    res = await client.get(f"/api/v1/tickets/{number}/status", headers=own)
    assert res.status_code == 200
    data = res.json()
    assert set(data) == CUSTOMER_STATUS_FIELDS
    assert data["queue_position"] == 1 and data["expected_wait_seconds"] == 300
    assert_error(await client.get("/api/v1/tickets/T-999999/status", headers=own), 404, "ticket_not_found")
    assert_error(await client.get("/api/v1/tickets/nonsense/status", headers=own), 404)


async def test_another_customers_ticket_answers_exactly_like_a_missing_one(client: httpx.AsyncClient) -> None:
    """Ticket numbers are sequential: a stranger learns nothing from one."""
    typed = (await post_handoff(client, "k-typed", conversation_id="conv-a", username="ayse_k")).json()
    number = typed["ticket_number"]
    missing = await client.get("/api/v1/tickets/T-999999/status", headers=status_headers("conv-b"))
    for headers in (
        status_headers("conv-b"),
        status_headers("conv-b", verified_username="mehmet_y"),
        status_headers("conv-b", verified_username="ayse_k"),  # ayse_k was typed there: it proves nothing
        status_headers("conv-a-but-not-quite"),
    ):
        theirs = await client.get(f"/api/v1/tickets/{number}/status", headers=headers)
        assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()) == (404, missing.json())
    assert missing.json()["error"]["code"] == "ticket_not_found"
    assert (await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("conv-a"))).status_code == 200


async def test_a_verified_customer_sees_the_tickets_handed_off_under_their_username(client: httpx.AsyncClient) -> None:
    body = {"conversation_id": "conv-laptop", "username": "ayse_k", "username_source": "verified_token"}
    number = (await post_handoff(client, "k-verified", **body)).json()["ticket_number"]
    phone = await client.get(
        f"/api/v1/tickets/{number}/status", headers=status_headers("conv-phone", verified_username="ayse_k")
    )
    assert phone.status_code == 200 and phone.json()["ticket_number"] == number
    other = await client.get(
        f"/api/v1/tickets/{number}/status", headers=status_headers("conv-phone", verified_username="ayse")
    )
    assert other.status_code == 404


async def test_status_needs_the_asking_conversation(client: httpx.AsyncClient) -> None:
    number = (await post_handoff(client, conversation_id="conv-own")).json()["ticket_number"]
    assert_error(
        await client.get(f"/api/v1/tickets/{number}/status", headers=bot_headers()), 400, "conversation_id_required"
    )
    odd = "web chat/ü?#&="
    number = (await post_handoff(client, "k-odd", conversation_id=odd)).json()["ticket_number"]
    assert (await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers(odd))).status_code == 200


async def test_service_token_required(client: httpx.AsyncClient) -> None:
    body = json.dumps(summary())
    assert_error(await client.post("/api/v1/handoffs", content=body, headers={"Idempotency-Key": "x"}), 401)
    wrong = {"Authorization": "Bearer nope", "Idempotency-Key": "x"}
    assert_error(await client.post("/api/v1/handoffs", content=body, headers=wrong), 401)
    agent = await login(client, "boss")
    assert_error(await client.post("/api/v1/handoffs", content=body, headers={**agent, "Idempotency-Key": "x"}), 401)
    assert_error(await client.get("/api/v1/tickets/T-000001/status"), 401)


async def test_bad_handoff_bodies(client: httpx.AsyncClient) -> None:
    body = json.dumps(summary())
    assert_error(
        await client.post("/api/v1/handoffs", content=body, headers=bot_headers()), 400, "idempotency_key_required"
    )
    assert_error(await client.post("/api/v1/handoffs", content=b"{oops", headers=bot_headers("a")), 400, "invalid_json")
    extra = json.dumps({**summary(), "is_admin": True})
    assert_error(await client.post("/api/v1/handoffs", content=extra, headers=bot_headers("b")), 422, "invalid_summary")
    wrong_type = json.dumps({**summary(), "faq_tried": "yes"})
    assert_error(
        await client.post("/api/v1/handoffs", content=wrong_type, headers=bot_headers("c")), 422, "invalid_summary"
    )
    unknown_dept = json.dumps({**summary(), "department": "legal"})
    assert_error(
        await client.post("/api/v1/handoffs", content=unknown_dept, headers=bot_headers("d")), 422, "unknown_department"
    )


async def test_oversized_summary_is_413(client: httpx.AsyncClient) -> None:
    big = summary(description="x" * 3000)
    big["transcript"] = [{"sender": "customer", "text": "y" * 4000, "timestamp": big["created_at"]}] * 20
    raw = json.dumps(big).encode()
    assert len(raw) > 64 * 1024
    assert_error(
        await client.post("/api/v1/handoffs", content=raw, headers=bot_headers("big")), 413, "payload_too_large"
    )


async def test_unknown_routes_and_methods_answer_json(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/nothing-here"), 404)
    assert_error(await client.delete("/api/v1/handoffs", headers=bot_headers()), 405)


async def test_openapi_document_lists_every_api_route(server, client: httpx.AsyncClient) -> None:
    res = await client.get("/api/v1/openapi.json")
    assert res.status_code == 200
    doc = res.json()
    assert doc["openapi"].startswith("3.")
    served = {
        (re.sub(r"<([a-z_]+)(:[a-z]+)?>", r"{\1}", "/" + route.path), method.lower())
        for route in server.app.router.routes
        if route.path.startswith("api/v1/")
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served and served <= documented, sorted(served - documented)
