"""Reading a rasa_sdk tracker into plain values the business rules take."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker

from support_rules.summary import TranscriptLine
from support_rules.tickets import HANDBACK_INTENTS

from .core.customer_token import VerifiedCustomer, token_from_metadata, verify_customer_token

__all__ = [
    "CustomerMessage",
    "session_events",
    "customer_messages",
    "transcript",
    "is_answering_now",
    "faq_id",
    "is_service_triggered",
    "verified_customer",
    "BIRTH_DATE_MASK",
]

# What agents see instead of the customer's answer to the age question.
BIRTH_DATE_MASK = "***"


@dataclass(frozen=True)
class CustomerMessage:
    text: str
    intent: str | None
    confidence: float
    timestamp: datetime
    answered_slot: str | None
    parse_data: dict[str, Any]


def _moment(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)


# Events after which a conversation starts afresh: a new session, or an agent
# giving the conversation back to the bot (the handoff service resumes it).
_FRESH_START = ("session_started", "resume")


def session_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Events since the current session started or an agent handed back."""
    events = tracker.events or []
    start = 0
    for index, event in enumerate(events):
        if event.get("event") in _FRESH_START:
            start = index
    return events[start:]


def _with_open_question(tracker: Tracker) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Each event of the session with the slot the bot was asking for then."""
    requested: str | None = None
    for event in session_events(tracker):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind == "active_loop" and not event.get("name"):
            requested = None
        yield event, requested


# Rasa's text for a triggered intent (rasa/shared/core/events.py,
# UserUttered.create_external), followed by the intent's name.
_EXTERNAL_PREFIX = "EXTERNAL: "


def is_service_triggered(message: dict[str, Any]) -> bool:
    """An intent the handoff service triggered, not something the customer wrote.

    ``message`` is a user event or ``tracker.latest_message``. The metadata's
    ``is_external`` alone proves nothing: a channel passes on whatever
    metadata the customer sends. Only what the service triggers counts, one
    of the hand-back intents, which Rasa logs with a fixed text; a customer
    line claiming ``is_external`` stays the customer's.
    """
    if (message.get("metadata") or {}).get("is_external") is not True:
        return False
    intent = (message.get("parse_data") or message).get("intent") or {}
    name = intent.get("name")
    return name in HANDBACK_INTENTS and message.get("text") == f"{_EXTERNAL_PREFIX}{name}"


def verified_customer(tracker: Tracker, secret: str | None) -> VerifiedCustomer | None:
    """Who the platform's signed token on the latest message says the customer is.

    The web chat sends the token with every message and the tracker store
    drops it before saving, so only the latest message can carry it.
    """
    message = tracker.latest_message or {}
    return verify_customer_token(token_from_metadata(message.get("metadata")), secret)


def customer_messages(tracker: Tracker) -> list[CustomerMessage]:
    messages: list[CustomerMessage] = []
    for event, requested in _with_open_question(tracker):
        if event.get("event") != "user" or is_service_triggered(event):
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        messages.append(
            CustomerMessage(
                text=event.get("text") or "",
                intent=intent.get("name"),
                confidence=float(intent.get("confidence") or 0.0),
                timestamp=_moment(event),
                answered_slot=requested,
                parse_data=parse,
            )
        )
    return messages


def transcript(tracker: Tracker) -> list[TranscriptLine]:
    """Customer and bot lines of this session; age answers are masked."""
    lines: list[TranscriptLine] = []
    for event, requested in _with_open_question(tracker):
        kind, text = event.get("event"), event.get("text")
        if kind == "user" and text and not is_service_triggered(event):
            shown = BIRTH_DATE_MASK if requested == "birth_date" else text
            lines.append(TranscriptLine("customer", shown, _moment(event)))
        elif kind == "bot" and text:
            lines.append(TranscriptLine("bot", text, _moment(event)))
    return lines


def is_answering_now(tracker: Tracker, form: str) -> bool:
    """True when a form's validation runs on a fresh customer message.

    Between the message and the validation Rasa logs the form's own run (and
    in some versions ``action_extract_slots``); any other action in between
    means the form was started by the dialogue, not by an answer.
    """
    passing = {"action_extract_slots", "action_listen", form}
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in passing:
            return False
    return False


def faq_id(parse_data: dict[str, Any]) -> str | None:
    """The FAQ answer the ResponseSelector chose for a message, if any."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    key = (selector.get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if "/" in key else None
