"""Boundaries: no Rasa import, every agent endpoint needs a session, roles."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import handoff
from tests.handoff.helpers import bot_headers
from tests.handoff.test_api_bot import assert_error
from tests.imports import top_level_imports

FORBIDDEN_IMPORTS = ("rasa", "rasa_sdk", "actions", "bot", "sanic")


def test_service_never_imports_rasa_actions_or_bot() -> None:
    root = Path(handoff.__file__).parent
    files = list(root.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        assert not top_level_imports(path) & {"rasa", "rasa_sdk", "actions", "bot"}, path


def test_services_and_repositories_do_not_import_sanic() -> None:
    root = Path(handoff.__file__).parent
    for package in ("services", "repo"):
        for path in (root / package).rglob("*.py"):
            assert "sanic" not in top_level_imports(path), path


AGENT_ENDPOINTS = [
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/queue"),
    ("POST", "/api/v1/queue/claim"),
    ("GET", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/T-000001"),
    ("GET", "/api/v1/tickets/T-000001/export"),
    ("POST", "/api/v1/tickets/T-000001/claim"),
    ("POST", "/api/v1/tickets/T-000001/reply"),
    ("POST", "/api/v1/tickets/T-000001/resolve"),
    ("POST", "/api/v1/tickets/T-000001/hand-back"),
    ("POST", "/api/v1/tickets/T-000001/transfer"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/live"),
]


@pytest.mark.parametrize("method,path", AGENT_ENDPOINTS)
async def test_agent_endpoints_need_a_session(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert_error(await client.request(method, path, headers=bot_headers()), 401)  # the service token is not a session
    forged = {"Authorization": "Bearer eyJhIjogMywgImUiOiAwLCAieCI6IDk5OTk5OTk5OTl9.forged"}
    assert_error(await client.request(method, path, headers=forged), 401)
