"""Out-of-range dates, numbers and timestamps in query arguments and JSON
bodies answer 400 with the service's JSON error, never 500 (finding 12):
huge integers, negative page sizes, year 99999 or a date whose next day
does not exist, NaN and Infinity, timestamps that leave the calendar once
turned into UTC."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login, status_headers

HUGE = "9" * 30

EVENTS = "/api/v1/conversations/c-1/events"
QUERIES = [
    (EVENTS, {"after": HUGE}),
    (EVENTS, {"after": str(2**63)}),
    (EVENTS, {"after": "-1"}),
    (EVENTS, {"limit": "-5"}),
    (EVENTS, {"limit": HUGE}),
    (EVENTS, {"limit": "NaN"}),
    (EVENTS, {"after": "Infinity"}),
    (EVENTS, {"after": "1e400"}),
    ("/api/v1/tickets", {"from": "99999-01-01"}),
    ("/api/v1/tickets", {"to": "9999-12-31"}),
    ("/api/v1/tickets", {"from": "0000-01-01"}),
    ("/api/v1/tickets", {"to": "2026-02-30"}),
    ("/api/v1/tickets", {"from": "NaN"}),
]


def _is_json_error(res: httpx.Response) -> bool:
    body = res.json()
    return set(body) == {"error"} and bool(body["error"]["code"]) and bool(body["error"]["message"])


@pytest.mark.parametrize(("path", "params"), QUERIES, ids=[f"{p}?{q}" for p, q in QUERIES])
async def test_out_of_range_query_arguments_answer_400(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    boss = await login(client, "boss")
    res = await client.get(path, params=params, headers=boss)
    assert res.status_code == 400, res.text
    assert _is_json_error(res)
    assert res.json()["error"]["code"] in ("out_of_range", "invalid_date", "wrong_type")


async def test_a_huge_integer_in_a_json_body_answers_400(client: httpx.AsyncClient) -> None:
    raw = json.dumps(summary()).replace('"schema_version": 1', f'"schema_version": {HUGE}')
    res = await client.post("/api/v1/handoffs", content=raw, headers=bot_headers("key-huge"))
    assert res.status_code == 400, res.text
    assert res.json()["error"]["code"] == "out_of_range"


def _transcript_at(timestamp: str) -> dict[str, Any]:
    return summary(transcript=[{"sender": "customer", "text": "merhaba", "timestamp": timestamp}])


BODIES = {
    # leaves the calendar once turned into UTC
    "timestamp after year 9999 in UTC": _transcript_at("9999-12-31T23:59:59-14:00"),
    "timestamp before year 1 in UTC": _transcript_at("0001-01-01T00:00:00+14:00"),
    "created_at before year 1 in UTC": summary(created_at="0001-01-01T00:30:00+01:00"),
    "year 99999": summary(created_at="99999-01-01T00:00:00+00:00"),
}
# not JSON in the strict sense (RFC 8259), but Python's parser takes them
RAW_BODIES = {
    "NaN confidence": json.dumps(summary()).replace('"confidence": 0.91', '"confidence": NaN'),
    "Infinity confidence": json.dumps(summary()).replace('"confidence": 0.91', '"confidence": Infinity'),
    "-Infinity version": json.dumps(summary()).replace('"schema_version": 1', '"schema_version": -Infinity'),
    "huge exponent": json.dumps(summary()).replace('"confidence": 0.91', '"confidence": 1e400'),
}


@pytest.mark.parametrize("name", [*BODIES, *RAW_BODIES])
async def test_out_of_range_values_in_a_handoff_answer_400(client: httpx.AsyncClient, name: str) -> None:
    raw = RAW_BODIES.get(name) or json.dumps(BODIES[name])
    assert name not in RAW_BODIES or ("NaN" in raw or "Infinity" in raw or "1e400" in raw)  # the edit took
    res = await client.post("/api/v1/handoffs", content=raw, headers=bot_headers(f"key-{name}"))
    assert res.status_code in (400, 422), res.text  # 422: a well-formed summary the schema refuses
    assert _is_json_error(res)
    if name in RAW_BODIES:  # NaN and Infinity are not JSON; 1e400 is, but no number a double holds
        expected = "out_of_range" if "1e400" in raw else "invalid_json"
        assert res.status_code == 400 and res.json()["error"]["code"] == expected


@pytest.mark.parametrize("raw", ['{"text": NaN}', '{"text": "x", "client_id": Infinity}', '{"note": -Infinity}'])
async def test_nan_and_infinity_in_an_agent_body_answer_400(client: httpx.AsyncClient, raw: str) -> None:
    fin = await login(client, "fin")
    res = await client.post(
        "/api/v1/tickets/T-000001/reply", content=raw, headers={**fin, "Content-Type": "application/json"}
    )
    assert res.status_code == 400, res.text
    assert res.json()["error"]["code"] == "invalid_json"


# the largest number the format takes, far beyond any row id
BEYOND_IDS = "T-" + "9" * 18


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", f"/api/v1/tickets/{BEYOND_IDS}", {}),
        ("GET", f"/api/v1/tickets/{BEYOND_IDS}/export", {}),
        ("POST", f"/api/v1/tickets/{BEYOND_IDS}/claim", {}),
        ("GET", "/api/v1/tickets", {"number": BEYOND_IDS}),
        ("GET", EVENTS, {"after": str(2**31)}),  # found by the generated requests, on PostgreSQL
        ("GET", EVENTS, {"after": str(2**63 - 1)}),
    ],
)
async def test_numbers_beyond_any_row_id_answer_without_a_500(
    client: httpx.AsyncClient, method: str, path: str, params: dict[str, str]
) -> None:
    """Ids are 32-bit keys on PostgreSQL: a larger number names nothing."""
    boss = await login(client, "boss")
    res = await client.request(method, path, params=params, headers=boss)
    assert res.status_code in (400, 404) or (res.status_code == 200 and res.json().get("tickets") == []), res.text
    assert res.status_code == 200 or _is_json_error(res)


async def test_the_bot_asks_about_a_number_beyond_any_row_id(client: httpx.AsyncClient) -> None:
    res = await client.get(f"/api/v1/tickets/{BEYOND_IDS}/status", headers=status_headers("conv-beyond"))
    assert res.status_code == 404, res.text
