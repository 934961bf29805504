"""Password hashing and signed agent session tokens (the log-in limit is in
handoff.services.login_limits).

argon2 takes tens of milliseconds of CPU on purpose; the service runs it in
a bounded thread pool (``PasswordPool``), never on the event loop, so other
agents' requests are answered while log-ins are checked. argon2-cffi
releases the GIL while it hashes.

Session tokens are stateless: ``base64(json).hmac``. Logging out bumps the
agent's ``session_epoch``, which invalidates every token issued before.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "verify_password", "PasswordPool", "SessionSigner", "SessionClaims", "tokens_equal"]

_hasher = PasswordHasher()
# verified against when the username is unknown, so timing does not tell
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordPool:
    """``threads`` threads that hash and verify passwords; more requests wait their turn."""

    def __init__(self, threads: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, verify_password, password_hash, password
        )

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._executor, hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class SessionClaims:
    agent_id: int
    epoch: int
    expires_at: int


class SessionSigner:
    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._key = hashlib.sha256(("handoff-session:" + secret_key).encode()).digest()
        self.max_age_seconds = max_age_seconds

    def _sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, payload, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, agent_id: int, epoch: int, *, now: float | None = None) -> str:
        now = time.time() if now is None else now
        body = json.dumps({"a": agent_id, "e": epoch, "x": int(now) + self.max_age_seconds}).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._sign(payload.encode())}"

    def verify(self, token: str, *, now: float | None = None) -> SessionClaims | None:
        now = time.time() if now is None else now
        try:
            payload, signature = token.split(".", 1)
            if not hmac.compare_digest(signature, self._sign(payload.encode())):
                return None
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims = SessionClaims(int(data["a"]), int(data["e"]), int(data["x"]))
        except (ValueError, KeyError, TypeError):
            return None
        return claims if claims.expires_at > now else None
