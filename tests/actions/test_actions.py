"""Every custom action, run on real rasa_sdk trackers and dispatchers."""
from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.age_gate import ValidateAgeForm
from actions.context import ActionExtractContext
from actions.dialogue import ActionCancel, ActionHandleUnclear
from actions.handoff import ActionHandoff
from actions.routing import ActionRouteRequest
from actions.status import ActionTicketStatus
from actions.triage_form import ActionConfirmTriage, ValidateTriageForm
from conftest import CUSTOMER_SECRET, make_services
from trackers import action_event, bot_event, make_tracker, responses_of, slot_event, slots_of, user_event

DOMAIN = {
    "forms": {
        "age_form": {"required_slots": ["birth_date"]},
        "triage_form": {"required_slots": ["topic", "transaction_type", "transaction_date", "username"]},
    },
    "slots": {},
}


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher, events


# action_extract_context ------------------------------------------------------

def test_language_follows_each_message(services) -> None:
    _, events = run(ActionExtractContext(services), make_tracker([user_event("hello, I cannot log in", "faq")]))
    assert slots_of(events)["language"] == "en"
    _, events = run(ActionExtractContext(services), make_tracker([user_event("şifremi unuttum", "faq")], {"language": "en"}))
    assert slots_of(events)["language"] == "tr"


def test_a_message_without_language_keeps_the_current_one(services) -> None:
    _, events = run(ActionExtractContext(services), make_tracker([user_event("04.05.1990", "inform")], {"language": "en"}))
    assert "language" not in slots_of(events)


def _token(secret: str, **claims) -> str:
    return jwt.encode({"username": "ayse_k", "age_verified": True, "exp": int(time.time()) + 60, **claims},
                      secret, algorithm="HS256")


def test_a_signed_token_skips_what_it_proves(services) -> None:
    event = user_event("merhaba", "greet", metadata={"customer_token": _token(CUSTOMER_SECRET)})
    _, events = run(ActionExtractContext(services), make_tracker([event]))
    assert slots_of(events) == {"age_status": "over_18", "age_method": "verified_token", "username": "ayse_k"}


@pytest.mark.parametrize("token", [
    _token("not-the-configured-secret-but-long-enough"),
    _token(CUSTOMER_SECRET, exp=int(time.time()) - 5),
    "not a token",
])
def test_bad_or_expired_tokens_prove_nothing(services, token) -> None:
    event = user_event("merhaba", "greet", metadata={"customer_token": token})
    _, events = run(ActionExtractContext(services), make_tracker([event]))
    assert "age_status" not in slots_of(events) and "username" not in slots_of(events)


# action_route_request --------------------------------------------------------

def test_requests_wait_for_the_age_check(services) -> None:
    dispatcher, events = run(ActionRouteRequest(services), make_tracker([user_event("para çekme sorunu", "report_problem")]))
    assert slots_of(events) == {"route": "age_gate"}
    assert responses_of(dispatcher) == ["utter_greet"]  # the first answer of a conversation greets


def test_the_greeting_is_not_repeated(services) -> None:
    events = [user_event("merhaba", "greet", timestamp=1), bot_event("Merhaba!", 2),
              user_event("şifremi unuttum", "faq", timestamp=3)]
    dispatcher, result = run(ActionRouteRequest(services), make_tracker(events))
    assert slots_of(result) == {"route": "age_gate"}
    assert dispatcher.messages == []


def test_after_the_age_check_the_first_request_resumes_with_its_values(services) -> None:
    events = [
        user_event("dün yaptığım para çekme gelmedi", "report_problem", timestamp=1),
        slot_event("requested_slot", "birth_date", 2),
        user_event("04.05.1990", "inform", timestamp=3),
        {"event": "active_loop", "name": None, "timestamp": 4},
    ]
    tracker = make_tracker(events, {"age_status": "over_18"}, latest_action_name="age_form")
    _, result = run(ActionRouteRequest(services), tracker)
    slots = slots_of(result)
    assert slots["route"] == "triage"
    assert slots["topic"] == "withdrawal"
    assert slots["transaction_type"] == "withdrawal"
    assert slots["transaction_date"] == "2026-11-21"
    assert slots["username"] is None


def test_an_faq_asked_before_the_age_check_is_answered_after_it(services) -> None:
    events = [
        user_event("şifremi unuttum", "faq", faq="password_reset", timestamp=1),
        slot_event("requested_slot", "birth_date", 2),
        user_event("04.05.1990", "inform", timestamp=3),
    ]
    tracker = make_tracker(events, {"age_status": "over_18"}, latest_action_name="age_form")
    dispatcher, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result) == {"route": "faq_answered", "faq_tried": ["password_reset"]}
    assert responses_of(dispatcher) == ["utter_faq/password_reset"]


def test_a_direct_faq_is_remembered(services) -> None:
    tracker = make_tracker([user_event("sms kodu gelmiyor", "faq", faq="two_factor")], {"age_status": "over_18"})
    dispatcher, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result) == {"route": "faq", "faq_tried": ["two_factor"]}
    assert dispatcher.messages == []  # utter_faq answers it


def test_an_unhelpful_faq_names_the_triage_topic(services) -> None:
    events = [user_event("çekim talebim beklemede", "faq", faq="withdrawal_pending", timestamp=1),
              user_event("hayır", "deny", timestamp=2)]
    tracker = make_tracker(events, {"age_status": "over_18", "faq_tried": ["withdrawal_pending"]},
                           latest_action_name="utter_faq_not_solved")
    _, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result)["route"] == "triage"
    assert slots_of(result)["topic"] == "withdrawal"


def test_three_unreadable_birth_dates_lead_out(services) -> None:
    tracker = make_tracker([user_event("bilmem", "inform")], {"age_attempts": 3}, latest_action_name="age_form")
    _, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result) == {"route": "age_way_out", "age_attempts": 0}


# validate_age_form -------------------------------------------------------------

def _age_form_run(services, text, slots=None, intent="inform"):
    tracker = make_tracker([user_event(text, intent)], {"requested_slot": "birth_date", **(slots or {})},
                           active_loop="age_form")
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


@pytest.mark.parametrize("text,response", [
    ("01.01.2030", "utter_birth_date_future"),
    ("01.01.1890", "utter_birth_date_implausible"),
    ("31.02.1990", "utter_birth_date_invalid"),
    ("bilmiyorum", "utter_birth_date_unreadable"),
])
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


# validate_triage_form -----------------------------------------------------------

def _triage_run(services, text, requested, slots=None, intent="inform"):
    tracker = make_tracker([user_event(text, intent)], {"requested_slot": requested, **(slots or {})},
                           active_loop="triage_form")
    return run(ValidateTriageForm(services), tracker)


def test_an_answer_and_the_extra_values_in_it(services) -> None:
    _, events = _triage_run(services, "para cekme, dün", "topic")
    slots = slots_of(events)
    assert slots["topic"] == "withdrawal"
    assert slots["transaction_type"] == "withdrawal"
    assert slots["transaction_date"] == "2026-11-21"


@pytest.mark.parametrize("text,response", [
    ("yarın", "utter_date_unreadable"),
    ("30.11.2026", "utter_date_future"),
    ("31.02.2026", "utter_date_invalid"),
    ("01.01.2020", "utter_date_too_old"),
])
def test_bad_dates_are_explained_and_asked_again(services, text, response) -> None:
    dispatcher, events = _triage_run(services, text, "transaction_date",
                                     {"topic": "deposit", "transaction_type": "deposit"})
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
        services, "hayır tarih yanlış, 12'siydi", "username",
        {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-20"}, intent="correct")
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
    events = [user_event("hayır", "deny"), action_event("action_extract_slots"),
              action_event("utter_faq_not_solved"), action_event("action_route_request")]
    tracker = make_tracker(events, {"topic": "withdrawal"}, active_loop="triage_form",
                           latest_action_name="action_route_request")
    dispatcher, events = run(ValidateTriageForm(services), tracker)
    assert dispatcher.messages == []
    assert not {"transaction_type", "transaction_date", "username"} & set(slots_of(events))


def test_cancel_during_triage_fills_nothing(services) -> None:
    _, events = _triage_run(services, "vazgeçtim", "username", {"topic": "deposit"}, intent="cancel")
    assert not {"topic", "transaction_type", "transaction_date", "username"} & set(slots_of(events))


def test_confirmation_shows_labels_in_the_customers_language(services) -> None:
    slots = {"topic": "withdrawal", "transaction_type": "withdrawal", "transaction_date": "2026-11-21",
             "username": "ayse_k", "language": "en"}
    dispatcher, _ = run(ActionConfirmTriage(services), make_tracker([user_event("x", "inform")], slots))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_confirm_triage"
    assert message["topic_label"] == "Withdrawal"
    assert message["transaction_date_label"] == "2026-11-21"
    dispatcher, _ = run(ActionConfirmTriage(services), make_tracker([user_event("x", "inform")], {**slots, "language": "tr"}))
    assert dispatcher.messages[0]["topic_label"] == "Para çekme"
    assert dispatcher.messages[0]["transaction_date_label"] == "21.11.2026"


# action_handoff ---------------------------------------------------------------------

def _handoff_tracker(**slots):
    events = [
        user_event("dün 4111 1111 1111 1111 kartımla yatırdığım para görünmüyor", "report_problem", timestamp=1),
        slot_event("requested_slot", "birth_date", 2),
        user_event("04.05.1990", "inform", timestamp=3),
        {"event": "active_loop", "name": None, "timestamp": 4},
        bot_event("Özetliyorum...", 5),
        user_event("evet", "affirm", timestamp=6),
    ]
    values = {"topic": "deposit", "transaction_type": "deposit", "transaction_date": "2026-11-21",
              "username": "ayse_k", "age_status": "over_18", "age_method": "birth_date", **slots}
    return make_tracker(events, values)


def test_handoff_posts_the_summary_and_pauses(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    dispatcher, events = run(ActionHandoff(services), _handoff_tracker())
    assert events[-1]["event"] == "pause"
    assert slots_of(events)["ticket_number"] == "T-000001"
    message = dispatcher.messages[0]
    assert message["response"] == "utter_handoff_created"
    assert (message["ticket_number"], message["queue_position"], message["wait_minutes"]) == ("T-000001", 2, 3)
    summary = handoff_service.received[0]
    assert summary["department"] == "finance" and summary["username"] == "ayse_k"
    assert "4111 1111 1111 1111" not in str(summary)
    assert "04.05.1990" not in str(summary)  # the age answer is masked in the transcript
    assert services.outbox.pending() == []


def test_handoff_with_the_service_down_is_kept_and_delivered_later(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    handoff_service.stop()
    dispatcher, events = run(ActionHandoff(services), _handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_delayed"]
    assert events == [{"event": "pause", "timestamp": None}]
    assert len(services.outbox.pending()) == 1

    from actions.outbox_worker import deliver_pending
    handoff_service.start()
    assert asyncio.run(deliver_pending(services.outbox, services.handoff_client)) == 1
    assert len(handoff_service.tickets) == 1


def test_handoff_rejected_is_kept_for_review(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    handoff_service.fail_with = 422
    dispatcher, _ = run(ActionHandoff(services), _handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_delayed"]
    assert services.outbox.pending()[0].attempts == 1


# the outbox's database unreachable (nothing listens on port 1)
OUTBOX_DOWN = "postgresql://postgres@127.0.0.1:1/outbox"


def test_handoff_with_the_outbox_down_is_still_posted(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url, OUTBOX_URL=OUTBOX_DOWN)
    dispatcher, events = run(ActionHandoff(services), _handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_created"]
    assert events[-1]["event"] == "pause" and len(handoff_service.tickets) == 1


def test_handoff_neither_posted_nor_kept_is_not_promised(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url, OUTBOX_URL=OUTBOX_DOWN)
    handoff_service.stop()
    dispatcher, events = run(ActionHandoff(services), _handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_failed"]  # not "saved, will be passed on"
    assert events == []  # not paused: the customer can ask again


# action_ticket_status -------------------------------------------------------------------

def test_status_of_a_ticket(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    run(ActionHandoff(services), _handoff_tracker())
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


# action_handle_unclear, action_cancel ------------------------------------------------------

def test_clarify_once_then_offer_a_person(services) -> None:
    dispatcher, events = run(ActionHandleUnclear(services), make_tracker([user_event("asdf", "nlu_fallback")]))
    assert responses_of(dispatcher) == ["utter_please_rephrase"]
    dispatcher, events = run(ActionHandleUnclear(services),
                             make_tracker([user_event("qwer", "nlu_fallback")], slots_of(events)))
    assert responses_of(dispatcher) == ["utter_offer_human"]
    # the bot listens next, also when it ran as the policies' fallback
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}


def test_cancel_stops_the_form_and_forgets_the_answers(services) -> None:
    tracker = make_tracker([user_event("vazgeçtim", "cancel")], {"topic": "deposit", "username": "ayse_k"},
                           active_loop="triage_form")
    dispatcher, events = run(ActionCancel(services), tracker)
    assert responses_of(dispatcher) == ["utter_cancelled"]
    assert events[0] == {"event": "active_loop", "timestamp": None, "name": None}
    assert slots_of(events)["topic"] is None
    assert "username" not in slots_of(events)
