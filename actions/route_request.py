"""action_route_request: where a request goes next (see data/rules/routing.yml)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from support_rules.triage import TRIAGE_SLOTS, prefill

from .base import ServiceAction
from .conversation import CustomerMessage, customer_messages, faq_id, session_events
from .core.replies import known
from .core.routes import ENTRY_INTENTS, decide_route
from .greeting import greet

# Messages that describe the problem (searched for values at triage start).
DESCRIBING_INTENTS = ("faq", "report_problem", "request_human", "greet")


def _request(messages: list[CustomerMessage], resumed: bool) -> CustomerMessage | None:
    """The message being answered: the latest one, or after the age check
    the last request made before it."""
    if not messages:
        return None
    if not resumed:
        return messages[-1]
    earlier = [m for m in messages if m.answered_slot is None and m.intent in ENTRY_INTENTS]
    return earlier[-1] if earlier else messages[-1]


def _bot_spoke(tracker: Tracker) -> bool:
    return any(event.get("event") == "bot" for event in session_events(tracker))


class ActionRouteRequest(ServiceAction):
    def name(self) -> str:
        return "action_route_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        messages = customer_messages(tracker)
        resumed = tracker.latest_action_name == "age_form"
        request = _request(messages, resumed)
        attempts = int(tracker.get_slot("age_attempts") or 0)
        route = decide_route(
            age_status=tracker.get_slot("age_status"),
            age_attempts=attempts,
            intent=request.intent if request else None,
            resumed=resumed,
            topic_chosen=bool(known(tracker.get_slot("topic"))),
        )
        events: list[EventType] = [SlotSet("route", route)]
        if route == "age_gate" and request and request.intent != "greet" and not _bot_spoke(tracker):
            greet(dispatcher, tracker, self.services)  # a first message that was a question
        if route == "age_way_out":
            events.append(SlotSet("age_attempts", 0))
        elif route in ("faq", "faq_answered") and request is not None:
            answer = faq_id(request.parse_data)
            tried = list(tracker.get_slot("faq_tried") or [])
            if answer:
                events.append(SlotSet("faq_tried", tried + [answer]))
                if route == "faq_answered":
                    dispatcher.utter_message(response=f"utter_faq/{answer}")
        elif route == "triage":
            events += self._prefill(tracker, messages)
        return events

    def _prefill(self, tracker: Tracker, messages: list[CustomerMessage]) -> list[EventType]:
        texts = [m.text for m in messages if m.answered_slot is None and m.intent in DESCRIBING_INTENTS]
        values = prefill(texts, tracker.get_slot("faq_tried") or [], self.services.triage_rules())
        # what is already known and no message restates: the username (a
        # skipped one is asked again) and the pre-chat form's topic
        for slot in ("topic", "username"):
            value = known(tracker.get_slot(slot))
            if value and slot not in values:
                values[slot] = value
        return [SlotSet(slot, values.get(slot)) for slot in TRIAGE_SLOTS] + [SlotSet("triage_misses", 0)]
