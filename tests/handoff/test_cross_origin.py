"""Cross-origin changes with the session cookie are refused (handoff.cross_origin)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from handoff.app import create_app
from handoff.cross_origin import allowed_origin, origin_of
from handoff.services.channel import RecordingChannel
from tests.handoff.conftest import Running, StartApp
from tests.handoff.helpers import PASSWORD, login, make_settings
from tests.handoff.test_api_agents import new_ticket
from tests.handoff.test_api_bot import assert_error

HOST = "127.0.0.1:8080"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"origin": "http://127.0.0.1:8080"}, True),
        ({"origin": "HTTP://127.0.0.1:8080"}, True),
        ({"origin": "http://127.0.0.1:5005"}, False),  # a sibling: same site, another port
        ({"origin": "http://127.0.0.1"}, False),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "null"}, False),
        ({"origin": ""}, False),
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "none"}, True),
        ({"sec-fetch-site": "same-site"}, False),
        ({"sec-fetch-site": "cross-site"}, False),
        ({"referer": "http://127.0.0.1:8080/console/"}, True),
        ({"referer": "http://127.0.0.1:5005/chat"}, False),
        ({"origin": "http://127.0.0.1:5005", "referer": "http://127.0.0.1:8080/console/"}, False),
        ({}, True),  # no browser page sent this (curl, scripts)
    ],
)
def test_the_origin_rule(headers: dict[str, str], allowed: bool) -> None:
    assert allowed_origin(headers, host=HOST, allowed=()) is allowed


def test_an_explicit_list_replaces_the_own_origin() -> None:
    listed = ("https://support.example.com",)
    assert allowed_origin({"origin": "https://support.example.com"}, host="handoff:8080", allowed=listed)
    assert not allowed_origin({"origin": "http://handoff:8080"}, host="handoff:8080", allowed=listed)
    assert not allowed_origin({"origin": "https://support.example.com:5005"}, host="x", allowed=listed)
    assert origin_of("https://Support.Example.com/console/?x=1") == "https://support.example.com"
    assert origin_of("javascript:alert(1)") is None


async def _claimed_ticket(client: httpx.AsyncClient) -> str:
    """fin logs in with the cookie (kept in ``client``) and claims a new ticket."""
    number = await new_ticket(client, "finance")
    res = await client.post("/api/v1/auth/login", json={"username": "fin", "password": PASSWORD})
    assert res.status_code == 200 and client.cookies.get("handoff_session")
    assert (await client.post(f"/api/v1/tickets/{number}/claim")).status_code == 200
    return number


async def test_a_text_plain_post_from_a_sibling_origin_with_the_cookie_is_refused(
    server: Running, client: httpx.AsyncClient
) -> None:
    number = await _claimed_ticket(client)
    own = server.base_url
    sibling = own.rsplit(":", 1)[0] + ":5005"  # Rasa's port on the same host
    forged = json.dumps({"text": "forged"})
    for headers in (
        {"Origin": sibling},
        {"Origin": "null"},
        {"Referer": sibling + "/chat/"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        res = await client.post(
            f"/api/v1/tickets/{number}/reply", content=forged, headers={"Content-Type": "text/plain", **headers}
        )
        assert_error(res, 403, "cross_origin")
    assert_error(
        await client.post("/api/v1/auth/logout", headers={"Origin": sibling}), 403, "cross_origin"
    )  # still logged in
    assert server.channel.sent == []
    res = await client.post(
        f"/api/v1/tickets/{number}/reply",
        content=json.dumps({"text": "from the console"}),
        headers={"Content-Type": "application/json", "Origin": own},
    )
    assert res.status_code == 201, res.text
    assert [m.text for m in server.channel.sent] == ["from the console"]


async def test_a_log_in_from_a_foreign_page_is_refused(server: Running, client: httpx.AsyncClient) -> None:
    res = await client.post(
        "/api/v1/auth/login",
        json={"username": "fin", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert_error(res, 403, "cross_origin")
    assert "handoff_session" not in client.cookies


async def test_bearer_clients_are_not_concerned(server: Running, client: httpx.AsyncClient) -> None:
    """The bot (service token) and API clients (agent token) send no cookie
    a browser could add; whatever Origin they name, they pass."""
    number = await new_ticket(client, "finance")
    fin = await login(client, "fin")
    foreign = {"Origin": "https://evil.example"}
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers={**fin, **foreign})).status_code == 200
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "API client"}, headers={**fin, **foreign})
    assert res.status_code == 201, res.text


async def test_allowed_origins_from_the_setting(db_url: str, seed, start_app: StartApp) -> None:
    app = create_app(
        make_settings(db_url, allowed_origins=("https://support.example.com",)),
        channel=RecordingChannel(),
        name=f"origins_{uuid.uuid4().hex[:6]}",
    )
    base = (await start_app(app)).base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        body = {"username": "fin", "password": PASSWORD}
        assert (
            await c.post("/api/v1/auth/login", json=body, headers={"Origin": "https://support.example.com"})
        ).status_code == 200
        assert_error(await c.post("/api/v1/auth/logout", headers={"Origin": base}), 403, "cross_origin")
        assert (
            await c.post("/api/v1/auth/logout", headers={"Origin": "https://support.example.com"})
        ).status_code == 200


async def test_the_openapi_document_lists_the_refusal(server: Running, client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "403" in paths["/api/v1/tickets/{number}/reply"]["post"]["responses"]
    assert "403" in paths["/api/v1/auth/login"]["post"]["responses"]
    assert "403" not in paths["/api/v1/handoffs"]["post"]["responses"]  # the bot's token
    # a read is never refused as cross-origin (the queue's 403 is for an editor, who works no tickets)
    assert "403" not in paths["/healthz"]["get"]["responses"]
