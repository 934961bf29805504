"""action_ticket_status: "T-123 ne durumda?" answered from the handoff service."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from .base import ServiceAction
from .core.handoff_client import HandoffError
from .core.identifiers import find_ticket_number
from .handoff import wait_minutes

STATUS_RESPONSES = {
    "queued": "utter_ticket_queued",
    "assigned": "utter_ticket_assigned",
    "resolved": "utter_ticket_resolved",
    "handed_back": "utter_ticket_handed_back",
    "abandoned": "utter_ticket_abandoned",
}


class ActionTicketStatus(ServiceAction):
    def name(self) -> Text:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        number = find_ticket_number(text) or tracker.get_slot("ticket_number")
        if not number:
            dispatcher.utter_message(response="utter_ask_ticket_number")
            return []
        try:
            status = await self.services.handoff_client.ticket_status(number)
        except HandoffError:
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if status is None:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_number=number)
            return []
        response = STATUS_RESPONSES.get(str(status.get("status")), "utter_status_unavailable")
        dispatcher.utter_message(
            response=response,
            ticket_number=status.get("ticket_number", number),
            queue_position=status.get("queue_position") or 1,
            wait_minutes=wait_minutes(status.get("expected_wait_seconds")),
        )
        return []
