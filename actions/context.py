"""action_extract_context: runs on every customer message (slot mapping).

Keeps the conversation's language up to date, takes what the web chat's
pre-chat form answered (name, topic, username, e-mail: actions.core.prechat;
only into slots still empty, so a form sent again overwrites no answer) and
accepts what a signed customer token proves (username, verified age), which
wins over anything typed.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from support_rules.language import DEFAULT_LANGUAGE
from support_rules.language_detect import detect_language

from .base import ServiceAction
from .conversation import is_service_triggered
from .core.customer_token import token_from_metadata, verify_customer_token
from .core.prechat import read_form_answers


class ActionExtractContext(ServiceAction):
    def name(self) -> str:
        return "action_extract_context"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        if is_service_triggered(message):
            return []  # an intent the handoff service triggered: no customer text
        events: list[EventType] = []
        language = detect_language(message.get("text") or "") or tracker.get_slot("language")
        language = language or DEFAULT_LANGUAGE
        if language != tracker.get_slot("language"):
            events.append(SlotSet("language", language))
        token = token_from_metadata(message.get("metadata"))
        customer = verify_customer_token(token, self.services.settings.customer_token_secret)
        answers = read_form_answers(message.get("metadata"), self.services.triage_rules())
        for slot, value in answers.slots.items():
            if tracker.get_slot(slot) is None and not (slot == "username" and customer and customer.username):
                events.append(SlotSet(slot, value))
        if customer is not None:
            if customer.age_verified and tracker.get_slot("age_status") != "over_18":
                events += [SlotSet("age_status", "over_18"), SlotSet("age_method", "verified_token")]
            if customer.username and customer.username != tracker.get_slot("username"):
                events.append(SlotSet("username", customer.username))
        return events
