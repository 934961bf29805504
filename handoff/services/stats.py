"""Supervisor figures: queue length, waiting-time percentiles, handled today."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import utcnow
from handoff.repo import agents as agents_repo
from handoff.repo import tickets as tickets_repo
from handoff.services.queue import percentile

__all__ = ["supervisor_stats"]


async def supervisor_stats(*, session: AsyncSession, now: datetime | None = None) -> dict[str, Any]:
    """Waiting time is claim time minus creation time, over tickets first
    claimed today (UTC); "handled" counts tickets resolved or handed back today."""
    now = now or utcnow()
    midnight = datetime.combine(now.date(), time.min, tzinfo=timezone.utc)
    lengths = await tickets_repo.queue_lengths(session=session)
    handled = await tickets_repo.handled_since(session=session, since=midnight)
    waits: dict[str, list[float]] = {}
    for dept_id, created, assigned in await tickets_repo.claimed_since(session=session, since=midnight):
        waits.setdefault(dept_id, []).append(max(0.0, (assigned - created).total_seconds()))
    departments = []
    all_waits: list[float] = []
    for dept in await agents_repo.list_departments(session=session, active_only=False):
        w = waits.get(dept.id, [])
        all_waits.extend(w)
        departments.append(
            {
                "department": dept.id,
                "queue_length": lengths.get(dept.id, 0),
                "handled_today": handled.get(dept.id, 0),
                "wait_seconds": _pcts(w),
            }
        )
    return {
        "generated_at": now.isoformat(),
        "departments": departments,
        "total": {
            "queue_length": sum(lengths.values()),
            "handled_today": sum(handled.values()),
            "wait_seconds": _pcts(all_waits),
        },
    }


def _pcts(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "count": len(values),
    }
