"""Sliding-window limits on acts counted in the database (``rate_marks``),
so every replica of the service sees one count: the request form's
postings per client address and per e-mail address.

``take`` counts one act under each of its keys, in the caller's
transaction, or refuses it when a key already had its ``limit`` of acts
within the last ``window_seconds`` (nothing is counted then, and the
answer is how long until the oldest of them leaves the window). On
PostgreSQL each key is locked for the transaction first (an advisory lock,
in one order: no deadlock), on SQLite the first write takes the database's
write lock, so a burst of postings at once counts exactly. A transaction
that rolls back (the posting failed) takes its marks back with it.

Keys are stored hashed: an e-mail or client address is never kept here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import RateMark, utcnow

__all__ = ["rate_key", "hold", "take", "forget_marks"]


def rate_key(kind: str, value: str) -> str:
    """The stored key of ``value`` counted as ``kind`` (``form-address``, ``form-email``)."""
    raw = f"{kind}:{value.strip().lower()}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _lock_id(key: str) -> int:
    return int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)


async def hold(*, session: AsyncSession, keys: Iterable[str], since: datetime) -> None:
    """Lock ``keys`` until the transaction ends (PostgreSQL: advisory locks
    in one order; SQLite: the database's write lock, taken by deleting the
    keys' marks older than ``since``). Acts under the same key, and what
    they decide after this, go one at a time."""
    keys = sorted(set(keys))
    if session.bind.dialect.name == "postgresql":
        for key in keys:
            await session.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
    else:
        await session.execute(delete(RateMark).where(RateMark.key.in_(keys), RateMark.at <= since))


async def take(
    *, session: AsyncSession, limits: Mapping[str, int], window_seconds: int, now: datetime | None = None
) -> int | None:
    """Count one act under every key of ``limits`` (key -> the acts it may
    have in the window); None when it may go ahead, otherwise the seconds
    to wait before the first key has room again."""
    if not limits:
        return None
    now = now or utcnow()
    since = now - timedelta(seconds=window_seconds)
    await hold(session=session, keys=limits, since=since)
    rows = await session.execute(
        select(RateMark.key, func.count(), func.min(RateMark.at))
        .where(RateMark.key.in_(limits), RateMark.at > since)
        .group_by(RateMark.key)
    )
    waits = [
        (oldest + timedelta(seconds=window_seconds) - now).total_seconds()
        for key, count, oldest in rows
        if count >= limits[key]
    ]
    if waits:
        return max(1, math.ceil(max(waits)))
    await session.execute(delete(RateMark).where(RateMark.key.in_(limits), RateMark.at <= since))
    session.add_all(RateMark(key=key, at=now) for key in limits)
    await session.flush()
    return None


async def forget_marks(*, session: AsyncSession, before: datetime) -> int:
    """Delete the marks older than ``before`` (retention: they count no more)."""
    result = await session.execute(delete(RateMark).where(RateMark.at <= before))
    return int(getattr(result, "rowcount", 0) or 0)
