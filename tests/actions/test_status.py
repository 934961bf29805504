"""action_ticket_status: a ticket's state as the handoff service reports it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from action_services import make_services
from trackers import handoff_tracker, make_tracker, responses_of, run, user_event

from actions.core.customer_token import mint_customer_token
from actions.handoff import ActionHandoff
from actions.status import ActionTicketStatus
from stack.live import HANDOFF_PY, ROOT, SERVICE_TOKEN, LiveStack


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


# against the real handoff service (issue 16, finding 11) ------------------------


RESPONSES = yaml.safe_load((ROOT / "domain" / "responses.yml").read_text(encoding="utf-8"))["responses"]


def _said(message: dict, language: str) -> str:
    """The text Rasa renders for a dispatched response in a language."""
    variants = RESPONSES[message["response"]]
    chosen = next(
        (v for v in variants if any(c.get("value") == language for c in v.get("condition", []))),
        next(v for v in variants if "condition" not in v),
    )
    return chosen["text"].format(**{k: v for k, v in message.items() if k != "response"})


@pytest.fixture(scope="module")
def handoff(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    stack = LiveStack(tmp_path_factory.mktemp("handoff"), extra_env={"HANDOFF_EVENTS_SOURCE": "off", "RASA_URL": ""})
    subprocess.run(
        [str(HANDOFF_PY), "-m", "handoff", "bootstrap"], cwd=ROOT, env=stack.env, check=True, capture_output=True
    )
    stack.start_process("handoff")
    try:
        yield stack
    finally:
        stack.stop()


def _services(tmp_path: Path, handoff: LiveStack):
    return make_services(tmp_path, handoff.handoff_url, HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN)


def _ask(services, sender: str, text: str, language: str, token: str | None = None) -> dict:
    metadata = {"customer_token": token} if token else {}
    tracker = make_tracker(
        [user_event(text, "ticket_status", metadata=metadata)], {"language": language}, sender_id=sender
    )
    dispatcher, _ = run(ActionTicketStatus(services), tracker)
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]


def _hand_off(services, sender: str, username: str, token: str | None = None) -> str:
    tracker = handoff_tracker(username=username)
    events = [e for e in tracker.events if e["event"] != "session_started"]
    if token:
        events[-1] = {**events[-1], "metadata": {"customer_token": token}}
    _, returned = run(ActionHandoff(services), make_tracker(events, tracker.slots, sender_id=sender))
    return next(e["value"] for e in returned if e.get("name") == "ticket_number")


def test_only_the_conversations_own_ticket_is_answered(tmp_path, handoff: LiveStack) -> None:
    services = _services(tmp_path, handoff)
    number = _hand_off(services, "conv-owner", "ayse_k")
    own = _ask(services, "conv-owner", f"{number} ne durumda?", "tr")
    assert own["response"] == "utter_ticket_queued" and own["ticket_number"] == number
    for language in ("tr", "en"):
        theirs = _ask(services, "conv-stranger", f"{number} ne durumda?", language)
        missing = _ask(services, "conv-stranger", "T-999999 ne durumda?", language)
        assert theirs["response"] == missing["response"] == "utter_ticket_not_found"
        assert _said(theirs, language).replace(number, "T-999999") == _said(missing, language)
        assert "1" not in _said(theirs, language).replace(number, "")  # no queue position, no wait


def test_a_verified_customer_is_answered_about_tickets_under_their_verified_username(
    tmp_path, handoff: LiveStack
) -> None:
    services = _services(tmp_path, handoff)
    secret = services.settings.customer_token_secret
    verified = _hand_off(services, "conv-laptop", "mehmet_y", mint_customer_token("mehmet_y", secret))
    typed = _hand_off(services, "conv-typed", "mehmet_y")  # someone typed mehmet_y
    phone = mint_customer_token("mehmet_y", secret)
    assert _ask(services, "conv-phone", f"{verified} ne oldu", "tr", phone)["response"] == "utter_ticket_queued"
    assert _ask(services, "conv-phone", f"{typed} ne oldu", "tr", phone)["response"] == "utter_ticket_not_found"
    forged = mint_customer_token("mehmet_y", "not-the-configured-secret-but-long-enough")
    assert _ask(services, "conv-phone", f"{verified} ne oldu", "en", forged)["response"] == "utter_ticket_not_found"
    stranger = mint_customer_token("zeynep_34", secret)
    assert _ask(services, "conv-phone", f"{verified} ne oldu", "en", stranger)["response"] == "utter_ticket_not_found"
