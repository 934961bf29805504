"""Retention: closed tickets are archived (read-only) after one age and
purged (ticket and transcript deleted; audit entries kept) after a second."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import utcnow
from handoff.repo import tickets as tickets_repo

__all__ = ["RetentionResult", "apply_retention"]


@dataclass(frozen=True)
class RetentionResult:
    archived: int
    purged: int


async def apply_retention(
    *, session: AsyncSession, archive_after_days: int, purge_after_days: int, now: datetime | None = None
) -> RetentionResult:
    if archive_after_days < 0 or purge_after_days < archive_after_days:
        raise ValueError("need 0 <= archive age <= purge age")
    now = now or utcnow()
    archived = await tickets_repo.archive_closed_before(
        session=session, cutoff=now - timedelta(days=archive_after_days), now=now
    )
    purged = await tickets_repo.purge_archived_before(session=session, cutoff=now - timedelta(days=purge_after_days))
    return RetentionResult(archived, purged)
