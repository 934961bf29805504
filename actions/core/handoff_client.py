"""HTTP client for the handoff service (contract: schemas/README.md).

Errors:
    HandoffError
      HandoffUnavailable   the service could not be reached, timed out or
                           answered 5xx: worth retrying later
      HandoffRejected      the service answered 4xx: retrying will not help
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from support_rules.identity import CONVERSATION_HEADER, VERIFIED_USERNAME_HEADER, header_value
from support_rules.tickets import QUEUED

__all__ = ["HandoffClient", "HandoffError", "HandoffUnavailable", "HandoffRejected", "Receipt"]


class HandoffError(Exception):
    pass


class HandoffUnavailable(HandoffError):
    pass


class HandoffRejected(HandoffError):
    pass


@dataclass(frozen=True)
class Receipt:
    ticket_number: str
    queue_position: int | None
    expected_wait_seconds: int | None
    department: str | None
    status: str
    # the conversation joined the customer's open request on the same topic
    joined: bool = False

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Receipt:
        return cls(
            ticket_number=str(body["ticket_number"]),
            queue_position=body.get("queue_position"),
            expected_wait_seconds=body.get("expected_wait_seconds"),
            department=body.get("department"),
            status=str(body.get("status", QUEUED)),
            joined=body.get("joined") is True,
        )


class HandoffClient:
    def __init__(self, base_url: str, token: str | None, timeout_seconds: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.request(method, self._base_url + path, headers=headers, **kwargs) as response,
            ):
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                return response.status, body
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise HandoffUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def create_handoff(self, summary: dict[str, Any], idempotency_key: str) -> Receipt:
        status, body = await self._request(
            "POST", "/api/v1/handoffs", json=summary, headers={"Idempotency-Key": idempotency_key}
        )
        if status in (200, 201) and isinstance(body, dict) and "ticket_number" in body:
            return Receipt.from_json(body)
        error = f"HTTP {status}: {body!r}"[:500]
        if 400 <= status < 500 and status not in (408, 429):
            raise HandoffRejected(error)
        raise HandoffUnavailable(error)

    async def ticket_status(
        self, ticket_number: str, *, conversation_id: str, verified_username: str | None = None
    ) -> dict[str, Any] | None:
        """The customer-visible status, or None when no such ticket exists
        or it is not the asking customer's (the service answers both alike)."""
        headers = {CONVERSATION_HEADER: header_value(conversation_id)}
        if verified_username:
            headers[VERIFIED_USERNAME_HEADER] = header_value(verified_username)
        status, body = await self._request("GET", f"/api/v1/tickets/{ticket_number}/status", headers=headers)
        if status == 404:
            return None
        if status == 200 and isinstance(body, dict):
            return body
        raise HandoffUnavailable(f"HTTP {status}")
