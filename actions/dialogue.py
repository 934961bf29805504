"""action_handle_unclear and action_cancel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from support_rules.triage import TRIAGE_SLOTS

from .base import ServiceAction


class ActionHandleUnclear(ServiceAction):
    """Low confidence: ask to rephrase once, then offer a person.

    Also the policies' fallback when no rule fits the conversation; unlike
    Rasa's default fallback it keeps the customer's message, so it says
    outright that the bot listens next (otherwise the same state would
    predict the fallback again until Rasa's circuit breaker stops it).
    """

    def name(self) -> str:
        return "action_handle_unclear"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot("clarified"):
            dispatcher.utter_message(response="utter_offer_human")
            return [SlotSet("clarified", False), FollowupAction("action_listen")]
        dispatcher.utter_message(response="utter_please_rephrase")
        return [SlotSet("clarified", True), FollowupAction("action_listen")]


class ActionCancel(ServiceAction):
    """Stop whatever is being asked and forget the half-collected answers."""

    def name(self) -> str:
        return "action_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        events: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("age_attempts", 0)]
        return events + [SlotSet(slot, None) for slot in TRIAGE_SLOTS if slot != "username"]
