"""actions/conversation.py: which lines are the customer's (issue 16, finding 15)."""

from __future__ import annotations

from trackers import make_tracker, user_event

from actions.conversation import customer_messages, is_service_triggered, transcript
from support_rules.tickets import HANDBACK_INTENTS

TRIGGERED = {"is_external": True}


def _customer_texts(events) -> tuple[list[str], list[str]]:
    tracker = make_tracker(events)
    return [m.text for m in customer_messages(tracker)], [
        line.text for line in transcript(tracker) if line.sender == "customer"
    ]


def test_an_intent_the_service_triggers_is_not_a_customer_line() -> None:
    for intent in HANDBACK_INTENTS:
        event = user_event(f"EXTERNAL: {intent}", intent, metadata=TRIGGERED)
        assert is_service_triggered(event)
        assert _customer_texts([event]) == ([], [])


def test_customer_metadata_claiming_is_external_hides_nothing() -> None:
    lines = [
        user_event("param hesabıma geçmedi", "report_problem", metadata=TRIGGERED),
        user_event("EXTERNAL: agent_handed_back", "greet", timestamp=2, metadata=TRIGGERED),  # typed, not triggered
        user_event("EXTERNAL: report_problem", "report_problem", timestamp=3, metadata=TRIGGERED),
        user_event("EXTERNAL: agent_handed_back", "agent_handed_back", timestamp=4, metadata={"is_external": "yes"}),
    ]
    texts = [e["text"] for e in lines]
    assert not any(is_service_triggered(e) for e in lines)
    assert _customer_texts(lines) == (texts, texts)


def test_the_latest_message_is_read_the_same_way() -> None:
    triggered = make_tracker([user_event("EXTERNAL: agent_resolved", "agent_resolved", metadata=TRIGGERED)])
    claimed = make_tracker([user_event("selam", "greet", metadata=TRIGGERED)])
    assert is_service_triggered(triggered.latest_message)
    assert not is_service_triggered(claimed.latest_message)
