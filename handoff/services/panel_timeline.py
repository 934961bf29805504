"""The steps of a customer's request, as the customer panel shows them.

A plain function of the ticket's own times, its place in the queue and the
last line of its transcript: received, in the queue (position and expected
wait while it waits), with an agent, waiting for the customer (the agent
wrote last), then resolved, handed back to the assistant or abandoned, and
archived. Each step is ``done`` or ``current``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from handoff.models import Message, Ticket
from support_rules.tickets import ABANDONED, ASSIGNED, HANDED_BACK, QUEUED, RESOLVED

__all__ = ["STEPS", "Step", "timeline"]

RECEIVED: Final = "received"
IN_QUEUE: Final = "in_queue"
WITH_AGENT: Final = "with_agent"
WAITING_FOR_CUSTOMER: Final = "waiting_for_customer"
# the closing steps are named after the ticket statuses they end in
STEPS: Final = (RECEIVED, IN_QUEUE, WITH_AGENT, WAITING_FOR_CUSTOMER, RESOLVED, HANDED_BACK, ABANDONED, "archived")


@dataclass(frozen=True)
class Step:
    step: str
    at: datetime | None
    current: bool = False
    agent: str | None = None
    queue_position: int | None = None
    expected_wait_seconds: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "at": self.at.isoformat() if self.at else None,
            "current": self.current,
            "agent": self.agent,
            "queue_position": self.queue_position,
            "expected_wait_seconds": self.expected_wait_seconds,
        }


def timeline(
    ticket: Ticket,
    *,
    last_line: Message | None,
    agent_name: str | None,
    queue_position: int | None = None,
    expected_wait_seconds: int | None = None,
) -> list[Step]:
    steps = [Step(RECEIVED, ticket.created_at)]
    queued = ticket.status == QUEUED
    steps.append(
        Step(
            IN_QUEUE,
            ticket.updated_at if queued else ticket.created_at,  # queued again after a transfer
            current=queued,
            queue_position=queue_position if queued else None,
            expected_wait_seconds=expected_wait_seconds if queued else None,
        )
    )
    if ticket.assigned_at is not None and not queued:
        agent_wrote_last = (
            last_line is not None and last_line.sender == "agent" and last_line.created_at >= ticket.assigned_at
        )
        working = ticket.status == ASSIGNED
        steps.append(Step(WITH_AGENT, ticket.assigned_at, current=working and not agent_wrote_last, agent=agent_name))
        if working and agent_wrote_last and last_line is not None:
            steps.append(Step(WAITING_FOR_CUSTOMER, last_line.created_at, current=True, agent=agent_name))
    closed_at = {RESOLVED: ticket.resolved_at, HANDED_BACK: ticket.handed_back_at, ABANDONED: ticket.abandoned_at}
    if ticket.status in closed_at:
        steps.append(Step(ticket.status, closed_at[ticket.status] or ticket.closed_at, agent=agent_name))
    if ticket.archived_at is not None:
        steps.append(Step(STEPS[-1], ticket.archived_at))
    return steps
