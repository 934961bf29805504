"""Session start keeps a handed-off conversation with its agent; the return
from an agent forgets the request but keeps the customer."""

from __future__ import annotations

from action_services import make_services
from trackers import bot_event, make_tracker, responses_of, run, slots_of, user_event

from actions.context import ActionExtractContext
from actions.conversation import customer_messages, transcript
from actions.session import ActionResumeFromAgent, ActionSessionStart

FULL_REQUEST = {
    "language": "en",
    "age_status": "over_18",
    "age_method": "birth_date",
    "topic": "withdrawal",
    "transaction_type": "withdrawal",
    "transaction_date": "2026-11-20",
    "username": "john_doe99",
    "route": "triage",
    "faq_tried": ["withdrawal_time"],
    "requested_slot": "username",
}


def kinds(events):
    return [e["event"] for e in events]


def test_a_new_session_carries_the_slots_over_and_stays_unpaused(services) -> None:
    tracker = make_tracker([user_event("hello", "greet")], FULL_REQUEST)
    _, events = run(ActionSessionStart(services), tracker)
    assert kinds(events)[0] == "session_started" and kinds(events)[-1] == "action"
    assert "pause" not in kinds(events)
    slots = slots_of(events)
    assert slots["language"] == "en" and slots["age_status"] == "over_18" and slots["topic"] == "withdrawal"
    assert "requested_slot" not in slots  # a half-asked question is not carried into a new session


def test_session_expiry_keeps_a_waiting_customer_with_the_agent(services, handoff_service, tmp_path) -> None:
    number = _queued_ticket(handoff_service)
    tracker = make_tracker(
        [user_event("still there?", "greet")], {**FULL_REQUEST, "ticket_number": number}, paused=True
    )
    _, events = run(ActionSessionStart(make_services(tmp_path, handoff_service.url)), tracker)
    assert kinds(events)[-1] == "pause"  # after action_listen: the bot stays silent
    assert slots_of(events)["ticket_number"] == number


def test_a_handoff_still_in_the_outbox_stays_paused(services) -> None:
    tracker = make_tracker([user_event("hello?", "greet")], FULL_REQUEST, paused=True)
    _, events = run(ActionSessionStart(services), tracker)
    assert kinds(events)[-1] == "pause"


def test_an_unreachable_service_keeps_the_pause(services) -> None:
    # the default services point at a closed port
    tracker = make_tracker([user_event("hello?", "greet")], {**FULL_REQUEST, "ticket_number": "T-000001"}, paused=True)
    _, events = run(ActionSessionStart(services), tracker)
    assert kinds(events)[-1] == "pause"


def test_a_closed_ticket_lets_the_bot_speak_again_with_the_request_forgotten(
    services, handoff_service, tmp_path
) -> None:
    number = _queued_ticket(handoff_service)
    handoff_service.tickets[number]["status"] = "resolved"
    tracker = make_tracker([user_event("hi", "greet")], {**FULL_REQUEST, "ticket_number": number}, paused=True)
    _, events = run(ActionSessionStart(make_services(tmp_path, handoff_service.url)), tracker)
    assert "pause" not in kinds(events)
    slots = slots_of(events)
    assert slots["topic"] is None and slots["route"] is None and slots["faq_tried"] is None
    assert slots["language"] == "en" and slots["age_status"] == "over_18"


def test_hand_back_greets_again_and_forgets_the_request(services) -> None:
    external = user_event("EXTERNAL: agent_handed_back", "agent_handed_back", metadata={"is_external": True})
    dispatcher, events = run(ActionResumeFromAgent(services), make_tracker([external], FULL_REQUEST))
    assert responses_of(dispatcher) == ["utter_handed_back"]
    slots = slots_of(events)
    assert all(
        slots[name] is None
        for name in ("topic", "transaction_type", "transaction_date", "username", "route", "faq_tried")
    )
    assert "language" not in slots and "age_status" not in slots  # the customer is still known


def test_a_resolve_says_so(services) -> None:
    external = user_event("EXTERNAL: agent_resolved", "agent_resolved", metadata={"is_external": True})
    dispatcher, _ = run(ActionResumeFromAgent(services), make_tracker([external], FULL_REQUEST))
    assert responses_of(dispatcher) == ["utter_agent_resolved"]


def test_a_cancel_in_the_queue_says_so_and_forgets_the_request(services) -> None:
    external = user_event("EXTERNAL: request_cancelled", "request_cancelled", metadata={"is_external": True})
    dispatcher, events = run(ActionResumeFromAgent(services), make_tracker([external], FULL_REQUEST))
    assert responses_of(dispatcher) == ["utter_request_cancelled"]
    assert slots_of(events)["topic"] is None


def test_a_triggered_intent_does_not_change_the_language(services) -> None:
    external = user_event("EXTERNAL: agent_handed_back", "agent_handed_back", metadata={"is_external": True})
    _, events = run(ActionExtractContext(services), make_tracker([external], {"language": "tr"}))
    assert events == []


def test_after_a_hand_back_only_new_messages_describe_the_request() -> None:
    events = [
        user_event("para çekme sorunum var", "report_problem", timestamp=1.0),
        bot_event("Talebiniz alındı", timestamp=2.0),
        {"event": "pause", "timestamp": 3.0},
        {"event": "resume", "timestamp": 4.0},
        user_event("EXTERNAL: agent_handed_back", "agent_handed_back", timestamp=5.0, metadata={"is_external": True}),
        user_event("şifremi unuttum", "faq", timestamp=6.0),
    ]
    tracker = make_tracker(events)
    assert [m.text for m in customer_messages(tracker)] == ["şifremi unuttum"]
    assert [line.text for line in transcript(tracker)] == ["şifremi unuttum"]


def _queued_ticket(handoff_service) -> str:
    number = "T-000042"
    handoff_service.tickets[number] = {"ticket_number": number, "status": "queued", "department": "finance"}
    handoff_service.owners[number] = ("customer-1", None, None)  # make_tracker's conversation
    return number
