"""action_handle_unclear and action_cancel."""

from __future__ import annotations

from trackers import make_tracker, responses_of, run, slots_of, user_event

from actions.dialogue import ActionCancel, ActionHandleUnclear


def test_clarify_once_then_offer_a_person(services) -> None:
    dispatcher, events = run(ActionHandleUnclear(services), make_tracker([user_event("asdf", "nlu_fallback")]))
    assert responses_of(dispatcher) == ["utter_please_rephrase"]
    dispatcher, events = run(
        ActionHandleUnclear(services), make_tracker([user_event("qwer", "nlu_fallback")], slots_of(events))
    )
    assert responses_of(dispatcher) == ["utter_offer_human"]
    # the bot listens next, also when it ran as the policies' fallback
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}


def test_cancel_stops_the_form_and_forgets_the_answers(services) -> None:
    tracker = make_tracker(
        [user_event("vazgeçtim", "cancel")], {"topic": "deposit", "username": "ayse_k"}, active_loop="triage_form"
    )
    dispatcher, events = run(ActionCancel(services), tracker)
    assert responses_of(dispatcher) == ["utter_cancelled"]
    assert events[0] == {"event": "active_loop", "timestamp": None, "name": None}
    assert slots_of(events)["topic"] is None
    assert "username" not in slots_of(events)
