"""validate_triage_form and action_confirm_triage: answers, corrections, bad dates, the confirmation."""

from __future__ import annotations

import pytest
from trackers import action_event, make_tracker, responses_of, run, slots_of, user_event

from actions.triage_form import ActionConfirmTriage, ValidateTriageForm


def _triage_run(services, text, requested, slots=None, intent="inform"):
    tracker = make_tracker(
        [user_event(text, intent)], {"requested_slot": requested, **(slots or {})}, active_loop="triage_form"
    )
    return run(ValidateTriageForm(services), tracker)


def test_an_answer_and_the_extra_values_in_it(services) -> None:
    _, events = _triage_run(services, "para cekme, dün", "topic")
    slots = slots_of(events)
    assert slots["topic"] == "withdrawal"
    assert slots["transaction_type"] == "withdrawal"
    assert slots["transaction_date"] == "2026-11-21"


@pytest.mark.parametrize(
    "text,response",
    [
        ("yarın", "utter_date_unreadable"),
        ("30.11.2026", "utter_date_future"),
        ("31.02.2026", "utter_date_invalid"),
        ("01.01.2020", "utter_date_too_old"),
    ],
)
def test_bad_dates_are_explained_and_asked_again(services, text, response) -> None:
    dispatcher, events = _triage_run(
        services, text, "transaction_date", {"topic": "deposit", "transaction_type": "deposit"}
    )
    assert responses_of(dispatcher) == [response]
    assert slots_of(events)["transaction_date"] is None  # asked again
    if response == "utter_date_too_old":
        assert dispatcher.messages[0]["max_days"] == 180


def test_no_transaction_skips_the_date(services) -> None:
    _, events = _triage_run(services, "işlem yok", "transaction_type", {"topic": "login"})
    slots = slots_of(events)
    assert slots["transaction_type"] == "none"
    assert slots["requested_slot"] == "username"


def test_a_correction_while_another_question_is_open(services) -> None:
    dispatcher, events = _triage_run(
        services,
        "hayır tarih yanlış, 12'siydi",
        "username",
        {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20"},
        intent="correct",
    )
    slots = slots_of(events)
    assert slots["transaction_date"] == "2026-11-12"
    assert "username" not in slots  # the open question stays open
    assert dispatcher.messages == []


def test_a_correction_at_confirmation_overwrites(services) -> None:
    full = {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20", "username": "ayse_k"}
    _, events = _triage_run(services, "no, I meant withdrawal not deposit", None, full, intent="correct")
    assert slots_of(events)["transaction_type"] == "withdrawal"
    assert slots_of(events)["topic"] == "withdrawal"


def test_a_bare_correction_value(services) -> None:
    full = {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20", "username": "ayse_k"}
    _, events = _triage_run(services, "12 Kasım", None, full)
    assert slots_of(events)["transaction_date"] == "2026-11-12"


def test_an_unclear_correction_is_said(services) -> None:
    full = {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20", "username": "ayse_k"}
    dispatcher, _ = _triage_run(services, "!!!", None, full, intent="correct")
    assert responses_of(dispatcher) == ["utter_correction_not_understood"]


def test_a_form_started_by_the_router_reads_no_message_again(services) -> None:
    events = [
        user_event("hayır", "deny"),
        action_event("action_extract_slots"),
        action_event("utter_faq_not_solved"),
        action_event("action_route_request"),
    ]
    tracker = make_tracker(
        events, {"topic": "withdrawal"}, active_loop="triage_form", latest_action_name="action_route_request"
    )
    dispatcher, events = run(ValidateTriageForm(services), tracker)
    assert dispatcher.messages == []
    assert not {"transaction_type", "transaction_date", "username"} & set(slots_of(events))


def test_cancel_during_triage_fills_nothing(services) -> None:
    _, events = _triage_run(services, "vazgeçtim", "username", {"topic": "deposit"}, intent="cancel")
    assert not {"topic", "transaction_type", "transaction_date", "username"} & set(slots_of(events))


def test_confirmation_shows_labels_in_the_customers_language(services) -> None:
    slots = {
        "topic": "withdrawal",
        "transaction_type": "withdrawal",
        "transaction_date": "2026-11-21",
        "username": "ayse_k",
        "language": "en",
    }
    dispatcher, _ = run(ActionConfirmTriage(services), make_tracker([user_event("x", "inform")], slots))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_confirm_triage"
    assert message["topic_label"] == "Withdrawal"
    assert message["transaction_date_label"] == "2026-11-21"
    dispatcher, _ = run(
        ActionConfirmTriage(services), make_tracker([user_event("x", "inform")], {**slots, "language": "tr"})
    )
    assert dispatcher.messages[0]["topic_label"] == "Para çekme"
    assert dispatcher.messages[0]["transaction_date_label"] == "21.11.2026"
