import pytest

from actions.core.routes import MAX_AGE_ATTEMPTS, decide_route


@pytest.mark.parametrize("intent", ["greet", "faq", "report_problem", "request_human", "ticket_status"])
def test_nothing_before_the_age_check(intent: str) -> None:
    assert decide_route(age_status=None, age_attempts=0, intent=intent, resumed=False) == "age_gate"


def test_a_way_out_after_too_many_unreadable_dates() -> None:
    assert decide_route(age_status=None, age_attempts=MAX_AGE_ATTEMPTS, intent="greet", resumed=True) == "age_way_out"


def test_under_18_is_refused_whatever_they_ask() -> None:
    for intent in ("greet", "faq", "report_problem", "ticket_status"):
        assert decide_route(age_status="under_18", age_attempts=0, intent=intent, resumed=False) == "under_18"


@pytest.mark.parametrize(
    "intent,resumed,route",
    [
        ("greet", False, "help"),
        ("greet", True, "help"),
        ("faq", False, "faq"),
        ("faq", True, "faq_answered"),
        ("report_problem", False, "triage"),
        ("request_human", True, "triage"),
        ("deny", False, "triage"),
        ("ticket_status", True, "status"),
        (None, False, "help"),
    ],
)
def test_routes_after_the_age_check(intent, resumed, route) -> None:
    assert decide_route(age_status="over_18", age_attempts=0, intent=intent, resumed=resumed) == route


def test_a_greeting_with_a_topic_from_the_pre_chat_form_is_a_request_for_help_with_it() -> None:
    assert (
        decide_route(age_status="over_18", age_attempts=0, intent="greet", resumed=True, topic_chosen=True) == "triage"
    )
    assert decide_route(age_status="over_18", age_attempts=0, intent="greet", resumed=True) == "help"
    assert decide_route(age_status="over_18", age_attempts=0, intent="faq", resumed=True, topic_chosen=True) == (
        "faq_answered"
    )
    assert decide_route(age_status=None, age_attempts=0, intent="greet", resumed=False, topic_chosen=True) == "age_gate"
