"""Shared test helpers (imported by tests and conftest)."""

from __future__ import annotations

import socket

import httpx

from handoff.settings import Settings

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
