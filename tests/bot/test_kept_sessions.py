"""bot/kept_sessions.py: Rasa's endpoint calls reuse one connection, with
the same headers and authentication as Rasa's own sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot import kept_sessions

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def installed() -> None:
    kept_sessions.install()


class Server:
    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []
        self.seen: list[dict[str, str | None]] = []
        self.bodies: list[dict] = []
        self.url = ""

    async def webhook(self, request: web.Request) -> web.Response:
        self.peers.append(request.transport.get_extra_info("peername"))
        self.seen.append(
            {"authorization": request.headers.get("Authorization"), "x-token": request.headers.get("X-Token")}
        )
        body = await request.json()
        self.bodies.append(body)
        return web.json_response({"events": [], "responses": [], "echo": body["n"]})

    async def fail(self, _request: web.Request) -> web.Response:
        return web.json_response({"error": "no"}, status=500)


async def _close(*endpoints: EndpointConfig) -> None:
    for endpoint in endpoints:
        kept = endpoint.__dict__.get("_kept_session")
        if kept is not None:
            await kept[1].close()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Server]:
    found = Server()
    app = web.Application()
    app.router.add_post("/webhook", found.webhook)
    app.router.add_post("/fail", found.fail)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}"
    yield found
    await runner.cleanup()


async def test_calls_reuse_one_connection_and_answer_as_before(server: Server) -> None:
    endpoint = EndpointConfig(
        f"{server.url}/webhook", headers={"X-Token": "t"}, basic_auth={"username": "u", "password": "p"}
    )
    answers = [await endpoint.request(json={"n": n}) for n in range(5)]
    assert [a["echo"] for a in answers] == list(range(5))
    assert len(set(server.peers)) == 1  # Rasa's own session per call opened five connections
    expected = aiohttp.BasicAuth("u", "p").encode()
    assert all(s == {"authorization": expected, "x-token": "t"} for s in server.seen)
    await _close(endpoint)


async def test_concurrent_calls_all_get_their_own_answer_and_later_ones_reuse_the_connections(
    server: Server,
) -> None:
    endpoint = EndpointConfig(f"{server.url}/webhook")
    for _burst in range(2):
        answers = await asyncio.gather(*(endpoint.request(json={"n": n}) for n in range(20)))
        assert sorted(a["echo"] for a in answers) == list(range(20))
    assert len(server.peers) == 40
    assert len(set(server.peers)) <= 20  # the second burst went over the first one's connections
    await _close(endpoint)


async def test_an_error_status_is_still_raised_and_the_session_stays_usable(server: Server) -> None:
    from rasa.utils.endpoints import ClientResponseError

    failing = EndpointConfig(f"{server.url}/fail")
    with pytest.raises(ClientResponseError):
        await failing.request(json={})
    working = EndpointConfig(f"{server.url}/webhook")
    assert (await working.request(json={"n": 1}))["echo"] == 1
    await _close(failing, working)


async def test_an_idle_connection_is_dropped_before_the_servers_keep_alive_runs_out(server: Server) -> None:
    endpoint = EndpointConfig(f"{server.url}/webhook")
    await endpoint.request(json={"n": 1})
    await asyncio.sleep(kept_sessions.IDLE_SECONDS + 1.0)  # below Sanic's 5 s
    await endpoint.request(json={"n": 2})
    assert len(set(server.peers)) == 2  # a new connection, not the one left idle
    await _close(endpoint)


async def test_a_body_with_turkish_text_floats_and_nulls_arrives_as_sent(server: Server) -> None:
    endpoint = EndpointConfig(f"{server.url}/webhook")
    body = {
        "n": 3,
        "tracker": {
            "events": [{"event": "user", "timestamp": 1733245678.123456, "text": 'şifremi "unuttum" / ğüİı\u2028'}],
            "slots": {"birth_date": None, "score": 0.1, "flags": [True, False]},
        },
    }
    answer = await endpoint.request(json=body)
    assert answer["echo"] == 3
    assert server.bodies == [body]
    await _close(endpoint)
