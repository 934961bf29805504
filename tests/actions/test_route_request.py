"""action_route_request: where each request goes, before and after the age check."""

from __future__ import annotations

from trackers import bot_event, make_tracker, responses_of, run, slot_event, slots_of, user_event

from actions.route_request import ActionRouteRequest


def test_requests_wait_for_the_age_check(services) -> None:
    dispatcher, events = run(
        ActionRouteRequest(services), make_tracker([user_event("para çekme sorunu", "report_problem")])
    )
    assert slots_of(events) == {"route": "age_gate"}
    assert responses_of(dispatcher) == ["utter_greet"]  # the first answer of a conversation greets


def test_the_greeting_is_not_repeated(services) -> None:
    events = [
        user_event("merhaba", "greet", timestamp=1),
        bot_event("Merhaba!", 2),
        user_event("şifremi unuttum", "faq", timestamp=3),
    ]
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
    events = [
        user_event("çekim talebim beklemede", "faq", faq="withdrawal_pending", timestamp=1),
        user_event("hayır", "deny", timestamp=2),
    ]
    tracker = make_tracker(
        events,
        {"age_status": "over_18", "faq_tried": ["withdrawal_pending"]},
        latest_action_name="utter_faq_not_solved",
    )
    _, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result)["route"] == "triage"
    assert slots_of(result)["topic"] == "withdrawal"


def test_three_unreadable_birth_dates_lead_out(services) -> None:
    tracker = make_tracker([user_event("bilmem", "inform")], {"age_attempts": 3}, latest_action_name="age_form")
    _, result = run(ActionRouteRequest(services), tracker)
    assert slots_of(result) == {"route": "age_way_out", "age_attempts": 0}


def test_a_new_triage_starts_without_misses_and_asks_a_skipped_username_again(services) -> None:
    events = [
        user_event("para çekme sorunu", "report_problem", timestamp=1),
    ]
    slots = {"age_status": "over_18", "username": "unknown", "triage_misses": 2}
    _, result = run(ActionRouteRequest(services), make_tracker(events, slots))
    values = slots_of(result)
    assert values["route"] == "triage"
    assert values["triage_misses"] == 0
    assert values["username"] is None


def _after_the_age_check(first: dict, slots: dict) -> object:
    events = [
        first,
        slot_event("requested_slot", "birth_date", 2),
        user_event("04.05.1990", "inform", timestamp=3),
        {"event": "active_loop", "name": None, "timestamp": 4},
    ]
    return make_tracker(events, {"age_status": "over_18", **slots}, latest_action_name="age_form")


def test_a_greeting_with_the_pre_chat_topic_goes_to_triage_with_the_topic_and_username(services) -> None:
    """The form's answers are not asked again: triage starts with them filled."""
    first = user_event("Merhaba", "greet", metadata={"prechat": {"name": "Ayşe", "topic": "withdrawal"}})
    tracker = _after_the_age_check(first, {"customer_name": "Ayşe", "topic": "withdrawal", "username": "ayse_k"})
    _, result = run(ActionRouteRequest(services), tracker)
    slots = slots_of(result)
    assert slots["route"] == "triage"
    assert slots["topic"] == "withdrawal" and slots["username"] == "ayse_k"


def test_without_a_valid_pre_chat_topic_a_greeting_asks_how_to_help(services) -> None:
    first = user_event("Merhaba", "greet", metadata={"prechat": {"name": "Ayşe", "topic": "nonsense"}})
    _, result = run(ActionRouteRequest(services), _after_the_age_check(first, {"customer_name": "Ayşe"}))
    assert slots_of(result) == {"route": "help"}


def test_a_topic_the_customer_writes_wins_over_the_form(services) -> None:
    first = user_event("para yatırma sorunum var", "report_problem")
    _, result = run(ActionRouteRequest(services), _after_the_age_check(first, {"topic": "withdrawal"}))
    assert slots_of(result)["topic"] == "deposit"


def test_a_first_question_greets_by_the_pre_chat_name(services) -> None:
    tracker = make_tracker([user_event("para çekme sorunu", "report_problem")], {"customer_name": "Ayşe"})
    dispatcher, _ = run(ActionRouteRequest(services), tracker)
    assert responses_of(dispatcher) == ["utter_greet_name"]
    assert dispatcher.messages[0]["name"] == "Ayşe"
