"""validate_age_form: the birth date is checked and never kept."""

from __future__ import annotations

import pytest
from trackers import make_tracker, responses_of, run, slots_of, user_event

from actions.age_gate import ValidateAgeForm


def _age_form_run(services, text, slots=None, intent="inform"):
    tracker = make_tracker(
        [user_event(text, intent)], {"requested_slot": "birth_date", **(slots or {})}, active_loop="age_form"
    )
    return run(ValidateAgeForm(services), tracker)


def test_an_adult_passes_and_the_birth_date_is_not_kept(services) -> None:
    dispatcher, events = _age_form_run(services, "4 Mayıs 1990")
    slots = slots_of(events)
    assert slots["age_status"] == "over_18"
    assert slots["birth_date"] is None
    assert slots["requested_slot"] is None
    assert "1990" not in str(events)
    assert dispatcher.messages == []


def test_under_18_ends_the_check(services) -> None:
    _, events = _age_form_run(services, "23.11.2008")
    assert slots_of(events)["age_status"] == "under_18"
    assert "2008" not in str(events)


@pytest.mark.parametrize(
    "text,response",
    [
        ("01.01.2030", "utter_birth_date_future"),
        ("01.01.1890", "utter_birth_date_implausible"),
        ("31.02.1990", "utter_birth_date_invalid"),
        ("bilmiyorum", "utter_birth_date_unreadable"),
    ],
)
def test_impossible_dates_are_asked_again(services, text, response) -> None:
    dispatcher, events = _age_form_run(services, text)
    slots = slots_of(events)
    assert responses_of(dispatcher) == [response]
    assert slots["age_attempts"] == 1
    assert slots["birth_date"] is None  # Rasa's form asks for it again
    assert "age_status" not in slots


def test_the_third_failure_ends_the_form(services) -> None:
    dispatcher, events = _age_form_run(services, "bilmiyorum", {"age_attempts": 2})
    assert slots_of(events)["age_attempts"] == 3
    assert slots_of(events)["requested_slot"] is None
    assert dispatcher.messages == []  # the way-out message follows


def test_cancel_is_left_to_the_cancel_rule(services) -> None:
    _, events = _age_form_run(services, "vazgeçtim", intent="cancel")
    assert "age_status" not in slots_of(events) and "age_attempts" not in slots_of(events)
