"""Failed log-ins, counted in the database so every replica of the service
sees the same count: at most ``max_failures`` per username and per client
address within ``window_seconds``.

Keys are stored hashed: what someone typed as a username (sometimes a
password in the wrong field) is never kept. Each failure is written in its
own transaction, since the log-in's transaction is rolled back when it
fails.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import LoginFailure, utcnow

__all__ = ["LoginLimiter"]


def _keys(username: str, address: str) -> tuple[str, str]:
    def digest(raw: str) -> str:
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()

    return digest(f"u:{username.strip().lower()}"), digest(f"a:{address}")


class LoginLimiter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], max_failures: int, window_seconds: int) -> None:
        self._sessionmaker = sessionmaker
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)

    async def blocked(self, username: str, address: str, *, now: datetime | None = None) -> bool:
        since = (now or utcnow()) - self.window
        async with self._sessionmaker() as session:
            counts = await session.execute(
                select(LoginFailure.key, func.count())
                .where(LoginFailure.key.in_(_keys(username, address)), LoginFailure.at > since)
                .group_by(LoginFailure.key)
            )
            return any(count >= self.max_failures for _, count in counts)

    async def failed(self, username: str, address: str, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        keys = _keys(username, address)
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= now - self.window)
            )
            session.add_all([LoginFailure(key=key, at=now) for key in keys])

    async def succeeded(self, username: str) -> None:
        user_key = _keys(username, "")[0]
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.key == user_key))
