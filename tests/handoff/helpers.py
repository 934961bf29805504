"""Shared test helpers (imported by tests and conftest)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sanic import Sanic
from sanic.server.async_server import AsyncioServer

from handoff.settings import Settings
from stack.live import free_port
from support_rules.identity import CONVERSATION_HEADER, VERIFIED_USERNAME_HEADER, header_value

# What the bot (and so the customer) may see of a ticket: GET /tickets/{n}/status
CUSTOMER_STATUS_FIELDS = {
    "ticket_number",
    "status",
    "department",
    "queue_position",
    "expected_wait_seconds",
    "updated_at",
}

# Debian's chromium, driven by Playwright (which never downloads a browser here)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PASSWORD = "correct-horse-battery"
SERVICE_TOKEN = "test-service-token"
SECRET_KEY = "test-secret-key"


def make_settings(db_url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=db_url,
        service_token=SERVICE_TOKEN,
        secret_key=SECRET_KEY,
        **overrides,
    )


def bot_headers(key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def status_headers(conversation_id: str, verified_username: str | None = None) -> dict[str, str]:
    """The bot asking a ticket's status for a customer (schemas/README.md)."""
    headers = {**bot_headers(), CONVERSATION_HEADER: header_value(conversation_id)}
    if verified_username is not None:
        headers[VERIFIED_USERNAME_HEADER] = header_value(verified_username)
    return headers


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Log in and return Bearer headers (the cookie jar is left alone)."""
    res = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {res.json()['token']}"}


class AppServer:
    """A Sanic app on a real socket in the test's event loop, through Sanic's
    own start-up and shut-down steps. Started by the ``start_app`` fixture."""

    def __init__(self, app: Sanic, port: int | None = None) -> None:
        self.app = app
        self.port = port if port is not None else free_port()
        self._server: AsyncioServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> str:
        self.app.config.MOTD = False
        srv = await self.app.create_server(
            host="127.0.0.1",
            port=self.port,
            return_asyncio_server=True,
            access_log=False,
            asyncio_server_kwargs={"start_serving": False},
        )
        assert srv is not None
        await srv.startup()
        await srv.before_start()
        await srv.start_serving()
        await srv.after_start()
        self._server = srv
        return self.base_url

    async def stop(self, *, drop_connections: bool = False) -> None:
        """Stops listening (a second call does nothing). ``drop_connections``
        also cuts the open connections and websockets, as a dying process would."""
        if self._server is None:
            return
        srv, self._server = self._server, None
        await srv.before_stop()
        srv.close()
        await srv.wait_closed()
        if drop_connections:
            for conn in list(srv.connections):
                if getattr(conn, "websocket", None) is not None:
                    conn.websocket.fail_connection(code=1001)
                else:
                    conn.abort()
        await srv.after_stop()


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, dict]]:
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind:
            yield kind, json.loads(line[6:])
            kind = None


@asynccontextmanager
async def live_events(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> AsyncIterator[AsyncIterator[tuple[str, dict]]]:
    """An agent's live-update stream, open and past its ": connected" line:
    its events as (kind, data); keep-alive lines are skipped."""
    async with client.stream("GET", "/api/v1/live", headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        while (await asyncio.wait_for(lines.__anext__(), 5)) != ": connected":
            pass
        yield _events(lines)


async def next_event(events: AsyncIterator[tuple[str, dict]], timeout: float = 5.0) -> tuple[str, dict]:
    return await asyncio.wait_for(events.__anext__(), timeout)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def _true(value: bool) -> bool:
    return value


async def _eq(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected
