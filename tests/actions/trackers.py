"""Building rasa_sdk trackers for action tests."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# the forms the action tests run (domain/forms.yml, trimmed to what the actions read)
DOMAIN = {
    "forms": {
        "age_form": {"required_slots": ["birth_date"]},
        "triage_form": {"required_slots": ["topic", "transaction_type", "transaction_date", "username"]},
    },
    "slots": {},
}

DEFAULT_SLOTS = {
    "language": "tr",
    "age_status": None,
    "age_method": None,
    "age_attempts": 0,
    "birth_date": None,
    "route": None,
    "topic": None,
    "transaction_type": None,
    "transaction_date": None,
    "username": None,
    "ticket_number": None,
    "faq_tried": None,
    "clarified": False,
    "requested_slot": None,
    "customer_name": None,
    "customer_email": None,
}


def user_event(
    text: str,
    intent: str,
    confidence: float = 0.95,
    timestamp: float = 1.0,
    metadata: dict | None = None,
    faq: str | None = None,
) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if faq:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{faq}"}}}
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "parse_data": parse,
        "metadata": metadata or {},
        "input_channel": "socketio",
        "message_id": f"m{timestamp}",
    }


def bot_event(text: str, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": timestamp}


def slot_event(name: str, value: Any, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": timestamp}


def action_event(name: str, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": timestamp}


def make_tracker(
    events: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    latest_action_name: str = "action_listen",
    sender_id: str = "customer-1",
    paused: bool = False,
) -> Tracker:
    if events and events[-1]["event"] == "user" and active_loop:
        events = events + [action_event(active_loop)]  # Rasa logs the form's run before validating
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    latest_message = {**latest["parse_data"], "metadata": latest.get("metadata", {})} if latest else {}
    return Tracker(
        sender_id=sender_id,
        slots={**DEFAULT_SLOTS, **(slots or {})},
        latest_message=latest_message,
        events=[{"event": "session_started", "timestamp": 0.5}] + events,
        paused=paused,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=latest_action_name,
    )


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses_of(dispatcher) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]


def run(action: Action, tracker: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    """Runs one action as the action server would; returns its dispatcher and events."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher, events


def handoff_tracker(**slots: Any) -> Tracker:
    """A conversation at the triage confirmation, ready for action_handoff."""
    events = [
        user_event("dün 4111 1111 1111 1111 kartımla yatırdığım para görünmüyor", "report_problem", timestamp=1),
        slot_event("requested_slot", "birth_date", 2),
        user_event("04.05.1990", "inform", timestamp=3),
        {"event": "active_loop", "name": None, "timestamp": 4},
        bot_event("Özetliyorum...", 5),
        user_event("evet", "affirm", timestamp=6),
    ]
    values = {
        "topic": "deposit",
        "transaction_type": "deposit",
        "transaction_date": "2026-11-21",
        "username": "ayse_k",
        "age_status": "over_18",
        "age_method": "birth_date",
        **slots,
    }
    return make_tracker(events, values)
