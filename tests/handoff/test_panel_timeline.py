"""handoff.services.panel_timeline: the steps a customer sees, from the
ticket's own times (a plain function, no database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from handoff.models import Message, Ticket
from handoff.services.panel_timeline import timeline
from support_rules.tickets import ABANDONED, ASSIGNED, HANDED_BACK, QUEUED, RESOLVED

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def _ticket(status: str, **times: datetime | None) -> Ticket:
    values = {"created_at": T0, "updated_at": T0, **times}
    return Ticket(id=1, status=status, **values)


def _line(sender: str, minutes: int) -> Message:
    return Message(sender=sender, text="x", created_at=T0 + timedelta(minutes=minutes))


def _steps(ticket: Ticket, last: Message | None = None, **kw: object) -> list[tuple[str, bool]]:
    return [(s.step, s.current) for s in timeline(ticket, last_line=last, agent_name="Fatma Finans", **kw)]  # type: ignore[arg-type]


def test_a_waiting_request_shows_its_place_and_wait() -> None:
    steps = timeline(
        _ticket(QUEUED), last_line=_line("customer", 0), agent_name=None, queue_position=3, expected_wait_seconds=900
    )
    assert [(s.step, s.current) for s in steps] == [("received", False), ("in_queue", True)]
    assert (steps[1].queue_position, steps[1].expected_wait_seconds) == (3, 900)


def test_an_agent_on_it_then_waiting_for_the_customer() -> None:
    claimed = _ticket(ASSIGNED, assigned_at=T0 + timedelta(minutes=5))
    assert _steps(claimed, _line("customer", 1)) == [("received", False), ("in_queue", False), ("with_agent", True)]
    assert _steps(claimed, _line("agent", 6)) == [
        ("received", False),
        ("in_queue", False),
        ("with_agent", False),
        ("waiting_for_customer", True),
    ]
    # the customer answered: the agent is on it again
    assert _steps(claimed, _line("customer", 7))[-1] == ("with_agent", True)
    step = timeline(claimed, last_line=None, agent_name="Fatma Finans", queue_position=2)[-1]
    assert step.agent == "Fatma Finans" and step.queue_position is None


def test_closed_requests_end_in_their_status_and_the_archive() -> None:
    done = T0 + timedelta(hours=1)
    resolved = _ticket(
        RESOLVED, assigned_at=T0, resolved_at=done, closed_at=done, archived_at=done + timedelta(days=30)
    )
    assert _steps(resolved, _line("agent", 30)) == [
        ("received", False),
        ("in_queue", False),
        ("with_agent", False),
        (RESOLVED, False),
        ("archived", False),
    ]
    handed = _ticket(HANDED_BACK, assigned_at=T0, handed_back_at=done, closed_at=done)
    assert [s for s, _ in _steps(handed)][-1] == HANDED_BACK
    left = _ticket(ABANDONED, abandoned_at=done, closed_at=done)
    assert _steps(left) == [("received", False), ("in_queue", False), (ABANDONED, False)]


def test_a_transferred_request_waits_again_from_its_transfer() -> None:
    moved = T0 + timedelta(minutes=20)
    again = _ticket(QUEUED, updated_at=moved)  # the transfer cleared assigned_at
    steps = timeline(again, last_line=None, agent_name=None, queue_position=1, expected_wait_seconds=300)
    assert [(s.step, s.at, s.current) for s in steps] == [("received", T0, False), ("in_queue", moved, True)]
