"""Where a customer's request goes next: the age check comes first."""

from __future__ import annotations

__all__ = ["decide_route", "MAX_AGE_ATTEMPTS", "ENTRY_INTENTS"]

MAX_AGE_ATTEMPTS = 3
# Intents that open a request (and are resumed after the age check).
ENTRY_INTENTS = ("greet", "faq", "report_problem", "request_human", "ticket_status")

_ROUTE_BY_INTENT = {
    "greet": "help",
    "faq": "faq",
    "report_problem": "triage",
    "request_human": "triage",
    "deny": "triage",  # "no, the FAQ answer did not help"
    "ticket_status": "status",
}


def decide_route(
    *, age_status: str | None, age_attempts: int, intent: str | None, resumed: bool, topic_chosen: bool = False
) -> str:
    """One of the `route` slot's values (domain/core.yml).

    ``topic_chosen``: the web chat's pre-chat form named the topic, so a
    greeting is a request for help with it (triage, the topic not asked).

    ``resumed`` is true right after the age check, when ``intent`` is that of
    the request the customer made before it; an answer resumed that way was
    not shown yet, hence ``faq_answered`` (the action shows it) over ``faq``.
    """
    if age_status == "under_18":
        return "under_18"
    if age_status != "over_18":
        return "age_way_out" if age_attempts >= MAX_AGE_ATTEMPTS else "age_gate"
    route = _ROUTE_BY_INTENT.get(intent or "", "help")
    if route == "help" and intent == "greet" and topic_chosen:
        return "triage"
    if route == "faq" and resumed:
        return "faq_answered"
    return route
