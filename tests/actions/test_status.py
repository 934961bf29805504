"""action_ticket_status: a ticket's state as the handoff service reports it."""

from __future__ import annotations

from action_services import make_services
from trackers import handoff_tracker, make_tracker, responses_of, run, user_event

from actions.handoff import ActionHandoff
from actions.status import ActionTicketStatus


def test_status_of_a_ticket(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    run(ActionHandoff(services), handoff_tracker())
    dispatcher, _ = run(ActionTicketStatus(services), make_tracker([user_event("T-1 ne durumda?", "ticket_status")]))
    assert dispatcher.messages[0]["response"] == "utter_ticket_queued"
    assert dispatcher.messages[0]["ticket_number"] == "T-000001"


def test_status_of_an_unknown_ticket(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    dispatcher, _ = run(ActionTicketStatus(services), make_tracker([user_event("status of T-999", "ticket_status")]))
    assert responses_of(dispatcher) == ["utter_ticket_not_found"]


def test_status_without_a_number_asks_for_it(services) -> None:
    dispatcher, _ = run(ActionTicketStatus(services), make_tracker([user_event("talebim ne oldu", "ticket_status")]))
    assert responses_of(dispatcher) == ["utter_ask_ticket_number"]


def test_status_with_the_service_down(services) -> None:
    dispatcher, _ = run(ActionTicketStatus(services), make_tracker([user_event("T-5 ne oldu", "ticket_status")]))
    assert responses_of(dispatcher) == ["utter_status_unavailable"]
