"""The log-in throttle: growing delays per username and client address, and
per client address, counted in the database so every replica of the
service sees one count.

Every attempt is reserved (``reserve``) before its password is verified,
in one transaction that first takes a lock on its keys: on PostgreSQL an
advisory lock per key, on SQLite the database's write lock (the insert
comes first). So however many requests arrive at once, no more attempts
are verified than the throttle allows. A reserved attempt counts as a
failure until it succeeds (``succeeded`` takes it back).

The first ``max_failures`` attempts of a username from one address (and
``address_max_failures`` from one address with any username) within
``window_seconds`` are free; each further one must wait ``delay_seconds``
after the previous attempt, doubling each time up to ``max_delay_seconds``.
There is no lock per username: someone guessing an agent's password from
elsewhere does not delay that agent logging in from their own address.

Keys are stored hashed: what someone typed as a username (sometimes a
password in the wrong field) is never kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import LoginFailure, utcnow

__all__ = ["LoginLimiter", "ThrottleRules"]


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _user_key(username: str, address: str) -> str:
    return _digest(f"ua:{username.strip().lower()}\x00{address}")


def _address_key(address: str) -> str:
    return _digest(f"a:{address}")


def _lock_id(key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock``."""
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


@dataclass(frozen=True)
class ThrottleRules:
    max_failures: int = 5
    address_max_failures: int = 20
    window_seconds: int = 300
    delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0

    def wait(self, previous: int, last: datetime | None, free: int, now: datetime) -> float:
        """Seconds still to wait after ``previous`` attempts, the last at ``last``."""
        if previous < free or last is None:
            return 0.0
        delay = min(self.delay_seconds * 2 ** min(previous - free, 32), self.max_delay_seconds)
        return max(0.0, (last + timedelta(seconds=delay) - now).total_seconds())


class LoginLimiter:
    CONCURRENT = 4  # reservations talking to the database at once, per process; well under the pool's size

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], rules: ThrottleRules) -> None:
        self._sessionmaker = sessionmaker
        self._slots = asyncio.Semaphore(self.CONCURRENT)
        self.rules = rules
        self.window = timedelta(seconds=rules.window_seconds)

    async def reserve(self, username: str, address: str, *, now: datetime | None = None) -> float | None:
        """Count one attempt; None when it may go ahead, otherwise the
        seconds to wait (nothing is counted then).

        A burst of log-ins queues here (``CONCURRENT``) rather than holding
        the pool's connections while it waits for the lock, so other agents'
        requests still find one. An attempt that must wait by the current
        count is refused before any lock is taken: within the window counts
        only grow, so that answer stands."""
        now = now or utcnow()
        free = {
            _user_key(username, address): self.rules.max_failures,
            _address_key(address): self.rules.address_max_failures,
        }
        async with self._slots:
            async with self._sessionmaker() as session:
                wait = await self._wait(session, free, now, exclude=[])
            if wait > 0:
                return wait
            return await self._reserve(free, now)

    async def _wait(self, session: AsyncSession, free: dict[str, int], now: datetime, exclude: list[int]) -> float:
        rows = await session.execute(
            select(LoginFailure.key, func.count(), func.max(LoginFailure.at))
            .where(LoginFailure.key.in_(free), LoginFailure.at > now - self.window, LoginFailure.id.not_in(exclude))
            .group_by(LoginFailure.key)
        )
        return max((self.rules.wait(count, last, free[key], now) for key, count, last in rows), default=0.0)

    async def _reserve(self, free: dict[str, int], now: datetime) -> float | None:
        async with self._sessionmaker() as session, session.begin() as transaction:
            if session.bind.dialect.name == "postgresql":
                for key in sorted(free):  # one order everywhere: no deadlock
                    await session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
            mine = [LoginFailure(key=key, at=now) for key in free]
            session.add_all(mine)  # on SQLite the first write takes the database's write lock
            await session.flush()
            wait = await self._wait(session, free, now, exclude=[row.id for row in mine])
            if wait > 0:
                await transaction.rollback()
                return wait
            await session.execute(
                delete(LoginFailure).where(LoginFailure.key.in_(free), LoginFailure.at <= now - self.window)
            )
        return None

    async def succeeded(self, username: str, address: str) -> None:
        """The attempt was right: the username's count from this address is
        cleared, and the address's count loses this attempt."""
        address_key = _address_key(address)
        async with self._sessionmaker() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.key == _user_key(username, address)))
            latest = await session.scalar(
                select(LoginFailure.id).where(LoginFailure.key == address_key).order_by(LoginFailure.id.desc()).limit(1)
            )
            if latest is not None:
                await session.execute(delete(LoginFailure).where(LoginFailure.id == latest))
