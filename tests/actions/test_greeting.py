"""action_greet: by the pre-chat name when there is one, never by anything else."""

from __future__ import annotations

import pytest
from trackers import make_tracker, responses_of, run, user_event

from actions.greeting import ActionGreet


def test_a_visitor_who_gave_a_name_is_greeted_by_it(services) -> None:
    tracker = make_tracker([user_event("Merhaba", "greet")], {"customer_name": "Ayşe"})
    dispatcher, events = run(ActionGreet(services), tracker)
    assert responses_of(dispatcher) == ["utter_greet_name"]
    assert dispatcher.messages[0]["name"] == "Ayşe"
    assert events == []


def test_without_a_name_the_greeting_is_the_usual_one(services) -> None:
    dispatcher, _ = run(ActionGreet(services), make_tracker([user_event("Merhaba", "greet")]))
    assert responses_of(dispatcher) == ["utter_greet"]


@pytest.mark.parametrize("name", ["<b>x</b>", "**** 1111", "ayse_k"])
def test_a_slot_holding_something_else_than_a_name_is_not_said(services, name) -> None:
    dispatcher, _ = run(ActionGreet(services), make_tracker([user_event("hi", "greet")], {"customer_name": name}))
    assert responses_of(dispatcher) == ["utter_greet"]


def test_an_invalid_email_address_is_said_to_be_left_out(services) -> None:
    metadata = {"prechat": {"name": "Mark", "topic": "login", "email": "mark@"}}
    tracker = make_tracker([user_event("Hello", "greet", metadata=metadata)], {"customer_name": "Mark"})
    dispatcher, _ = run(ActionGreet(services), tracker)
    assert responses_of(dispatcher) == ["utter_greet_name", "utter_prechat_email_invalid"]
