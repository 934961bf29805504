"""Building rasa_sdk trackers for action tests."""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker

DEFAULT_SLOTS = {
    "language": "tr", "age_status": None, "age_method": None, "age_attempts": 0,
    "birth_date": None, "route": None, "topic": None, "transaction_type": None,
    "transaction_date": None, "username": None, "ticket_number": None,
    "faq_tried": None, "clarified": False, "requested_slot": None,
}


def user_event(text: str, intent: str, confidence: float = 0.95, timestamp: float = 1.0,
               metadata: Optional[dict] = None, faq: Optional[str] = None) -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if faq:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{faq}"}}}
    return {"event": "user", "text": text, "timestamp": timestamp, "parse_data": parse,
            "metadata": metadata or {}, "input_channel": "socketio", "message_id": f"m{timestamp}"}


def bot_event(text: str, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": timestamp}


def slot_event(name: str, value: Any, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": timestamp}


def action_event(name: str, timestamp: float = 1.0) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": timestamp}


def make_tracker(
    events: list[dict[str, Any]],
    slots: Optional[dict[str, Any]] = None,
    active_loop: Optional[str] = None,
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
