"""Shared test helpers (imported by tests and conftest)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sanic import Sanic

from handoff.settings import Settings

# Debian's chromium, driven by Playwright (which never downloads a browser here)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PASSWORD = "correct-horse-battery"
SERVICE_TOKEN = "test-service-token"
SECRET_KEY = "test-secret-key"


def make_settings(db_url: str, **overrides: object) -> Settings:
    return Settings(
        database_url=db_url,
        service_token=SERVICE_TOKEN,
        secret_key=SECRET_KEY,
        **overrides,  # type: ignore[arg-type]
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_headers(key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Log in and return Bearer headers (the cookie jar is left alone)."""
    res = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {res.json()['token']}"}


@asynccontextmanager
async def serve(app: Sanic, port: int) -> AsyncIterator[str]:
    """A Sanic app on a real socket in the test's event loop; yields its base URL."""
    app.config.MOTD = False
    srv = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert srv is not None
    await srv.startup()
    await srv.before_start()
    await srv.start_serving()
    await srv.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await srv.before_stop()
        srv.close()
        await srv.wait_closed()
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
async def live_events(client: httpx.AsyncClient, headers: dict[str, str]) -> AsyncIterator[AsyncIterator[tuple[str, dict]]]:
    """An agent's live-update stream, open and past its ": connected" line:
    its events as (kind, data); keep-alive lines are skipped."""
    async with client.stream("GET", "/api/v1/events", headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        while (await asyncio.wait_for(lines.__anext__(), 5)) != ": connected":
            pass
        yield _events(lines)


async def next_event(events: AsyncIterator[tuple[str, dict]], timeout: float = 5.0) -> tuple[str, dict]:
    return await asyncio.wait_for(events.__anext__(), timeout)
