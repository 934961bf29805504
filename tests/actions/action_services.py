"""The action tests' services: real ``Services`` with test settings, and a
stand-in HTTP handoff service. Imported by name (``from action_services
import ...``): tests/actions/ is on sys.path in pytest's default import mode,
and every test folder has its own conftest.py, so ``conftest`` is ambiguous."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from actions.core.settings import Settings
from actions.services import Services
from support_rules.identity import CONVERSATION_HEADER, USERNAME_VERIFIED, VERIFIED_USERNAME_HEADER, from_header_value

TODAY = date(2026, 11, 22)
SERVICE_TOKEN = "test-service-token"
CUSTOMER_SECRET = "customer-secret-of-at-least-32-bytes!"


class HandoffServiceDouble:
    """A small HTTP server that follows schemas/README.md, for the action tests.

    It can be stopped and started on the same port to play a service outage.
    """

    def __init__(self) -> None:
        self.tickets: dict[str, dict[str, Any]] = {}
        self.by_key: dict[tuple[str, str], str] = {}
        self.received: list[dict[str, Any]] = []
        self.owners: dict[str, tuple[str, str | None, str | None]] = {}
        self.topics: dict[str, str] = {}
        self.fail_with: int | None = None
        self.fail_for: dict[str, int] = {}  # conversation id -> the status it answers
        self.attempts: list[str] = []  # the conversation id of every post, in order
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _create(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {SERVICE_TOKEN}":
            return web.json_response({"error": {"code": "unauthorized", "message": "bad token"}}, status=401)
        if self.fail_with:
            return web.json_response({"error": {"code": "failure", "message": "failure"}}, status=self.fail_with)
        body = await request.json()
        self.attempts.append(body["conversation_id"])
        if body["conversation_id"] in self.fail_for:
            status = self.fail_for[body["conversation_id"]]
            return web.json_response({"error": {"code": "invalid_summary", "message": "refused"}}, status=status)
        key = (body["conversation_id"], request.headers.get("Idempotency-Key", ""))
        self.received.append(body)
        status = 200
        joined = False
        verified = body.get("username") if body.get("username_source") == USERNAME_VERIFIED else None
        same = [
            n for n, (_, user, src) in self.owners.items() if verified and (user, src) == (verified, USERNAME_VERIFIED)
        ]
        topic = (body.get("topic") or {}).get("id")
        open_on_topic = [n for n in same if topic is not None and self.topics.get(n) == topic]
        if key not in self.by_key and open_on_topic:  # one request per problem (schemas/README.md)
            self.by_key[key] = open_on_topic[0]
            joined = True
        if key not in self.by_key:
            number = f"T-{len(self.tickets) + 1:06d}"
            self.by_key[key] = number
            self.tickets[number] = {"ticket_number": number, "status": "queued", "department": body["department"]}
            self.owners[number] = (body["conversation_id"], body.get("username"), body.get("username_source"))
            self.topics[number] = (body.get("topic") or {}).get("id")
            status = 201
        ticket = self.tickets[self.by_key[key]]
        answer = {**ticket, "queue_position": 2, "expected_wait_seconds": 150, "joined": joined}
        return web.json_response(answer, status=status)

    async def _status(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        asking = from_header_value(request.headers.get(CONVERSATION_HEADER, ""))
        verified = from_header_value(request.headers.get(VERIFIED_USERNAME_HEADER, "")) or None
        if not asking:
            return web.json_response({"error": {"code": "conversation_id_required", "message": "who"}}, status=400)
        conversation, username, source = self.owners.get(number, ("", None, None))
        own = asking == conversation or (verified is not None and (username, source) == (verified, USERNAME_VERIFIED))
        ticket = self.tickets.get(number) if own else None
        if ticket is None:
            return web.json_response({"error": {"code": "not_found", "message": "no such ticket"}}, status=404)
        queued = ticket["status"] == "queued"
        return web.json_response(
            {
                **ticket,
                "queue_position": 1 if queued else None,
                "expected_wait_seconds": 60 if queued else None,
                "updated_at": "2026-11-22T10:00:00+00:00",
            }
        )

    def start(self) -> None:
        async def _start() -> None:
            app = web.Application()
            app.router.add_post("/api/v1/handoffs", self._create)
            app.router.add_get("/api/v1/tickets/{number}/status", self._status)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", self.port or 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        asyncio.run_coroutine_threadsafe(_start(), self._loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._runner = None

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)


def make_services(tmp_path: Path, handoff_url: str = "http://127.0.0.1:9", **extra: str) -> Services:
    env = {
        "HANDOFF_URL": handoff_url,
        "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
        "HANDOFF_TIMEOUT_SECONDS": "2",
        "CUSTOMER_TOKEN_SECRET": CUSTOMER_SECRET,
        "OUTBOX_PATH": str(tmp_path / "outbox.db"),
        "TRANSACTION_MAX_AGE_DAYS": "180",
        **extra,
    }
    return Services(Settings.from_env(env), clock=lambda: TODAY)
