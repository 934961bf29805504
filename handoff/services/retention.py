"""Retention: closed tickets are archived (read-only) after one age and
purged (ticket and transcript deleted; audit entries kept) after a second.
Failed log-ins older than the limiter's window, which nothing reads any
more, are deleted too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import LoginFailure, utcnow
from handoff.repo import tickets as tickets_repo

__all__ = ["RetentionResult", "apply_retention"]


@dataclass(frozen=True)
class RetentionResult:
    archived: int
    purged: int
    login_failures: int = 0


async def apply_retention(
    *,
    session: AsyncSession,
    archive_after_days: int,
    purge_after_days: int,
    now: datetime | None = None,
    login_window_seconds: int | None = None,
) -> RetentionResult:
    if archive_after_days < 0 or purge_after_days < archive_after_days:
        raise ValueError("need 0 <= archive age <= purge age")
    now = now or utcnow()
    archived = await tickets_repo.archive_closed_before(
        session=session, cutoff=now - timedelta(days=archive_after_days), now=now
    )
    purged = await tickets_repo.purge_archived_before(session=session, cutoff=now - timedelta(days=purge_after_days))
    forgotten = 0
    if login_window_seconds is not None:
        result = cast(
            CursorResult[Any],
            await session.execute(
                delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=login_window_seconds))
            ),
        )
        forgotten = result.rowcount or 0
    return RetentionResult(archived, purged, forgotten)
