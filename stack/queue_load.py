"""A department's queue filled for a load run: many queued tickets of every
priority and the agents who will claim them (the handoff environment).

The concurrency test and ``bench.queue_claims`` claim from the same queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Ticket, utcnow
from handoff.repo import agents as agents_repo
from support_rules.tickets import PRIORITY_RANK, QUEUED

DEPARTMENT = "finance"
_BATCH = 1000  # tickets a statement


async def fill_queue(
    *,
    session: AsyncSession,
    name: str,
    n_tickets: int,
    n_agents: int,
    password_hash: str,
    topic_id: str,
    languages: Sequence[str],
    reason: str,
) -> list[int]:
    """Queue ``n_tickets`` tickets in the finance department, an hour old, a
    millisecond apart, the priorities in turn, and add ``n_agents`` finance
    agents (``{name}0``, ``{name}1``, …). The agents' ids."""
    now = utcnow() - timedelta(hours=1)
    levels = list(PRIORITY_RANK)
    rows: list[dict[str, Any]] = [
        {
            "conversation_id": f"{name}-{i}",
            "idempotency_key": f"k{i}",
            "channel": "socketio",
            "language": languages[i % len(languages)],
            "username": f"user{i}",
            "department_id": DEPARTMENT,
            "topic_id": topic_id,
            "priority": levels[i % 4],
            "priority_rank": PRIORITY_RANK[levels[i % 4]],
            "priority_reason": reason,
            "summary": {},
            "status": QUEUED,
            "created_at": now + timedelta(milliseconds=i),
            "updated_at": now,
        }
        for i in range(n_tickets)
    ]
    for start in range(0, n_tickets, _BATCH):
        await session.execute(insert(Ticket), rows[start : start + _BATCH])
    ids = []
    for i in range(n_agents):
        agent = await agents_repo.insert_agent(
            session=session,
            username=f"{name}{i}",
            password_hash=password_hash,
            display_name=f"{name.title()} {i}",
            role="agent",
            departments=[DEPARTMENT],
        )
        ids.append(agent.id)
    return ids
