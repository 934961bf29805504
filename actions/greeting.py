"""action_greet: the first answer of a conversation greets, by the name the
pre-chat form gave when there is one (actions.core.prechat)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from support_rules.prechat import display_name

from .base import ServiceAction
from .core.prechat import NAME_SLOT, read_form_answers
from .services import Services

__all__ = ["ActionGreet", "greet"]


def greet(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> None:
    """Hello, by name if the visitor gave one; and, if the form's e-mail
    address was not one, that it was left out."""
    name = display_name(tracker.get_slot(NAME_SLOT))
    if name:
        dispatcher.utter_message(response="utter_greet_name", name=name)
    else:
        dispatcher.utter_message(response="utter_greet")
    metadata = (tracker.latest_message or {}).get("metadata")
    if read_form_answers(metadata, services.triage_rules()).email_rejected:
        dispatcher.utter_message(response="utter_prechat_email_invalid")


class ActionGreet(ServiceAction):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        greet(dispatcher, tracker, self.services)
        return []
