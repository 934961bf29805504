"""action_ticket_status: "T-123 ne durumda?" answered from the handoff service.

Only about the customer's own tickets: the service is told which
conversation asks and which username the customer's signed token proves,
and answers another customer's number exactly like a missing one, so the
customer hears the same "no such ticket" (utter_ticket_not_found).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from support_rules.limits import wait_minutes
from support_rules.tickets import ABANDONED, ASSIGNED, HANDED_BACK, QUEUED, RESOLVED, find_ticket_number

from .base import ServiceAction
from .conversation import verified_customer
from .core.handoff_client import HandoffError

STATUS_RESPONSES = {
    QUEUED: "utter_ticket_queued",
    ASSIGNED: "utter_ticket_assigned",
    RESOLVED: "utter_ticket_resolved",
    HANDED_BACK: "utter_ticket_handed_back",
    ABANDONED: "utter_ticket_abandoned",
}


class ActionTicketStatus(ServiceAction):
    def name(self) -> str:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        number = find_ticket_number(text) or tracker.get_slot("ticket_number")
        if not number:
            dispatcher.utter_message(response="utter_ask_ticket_number")
            return []
        customer = verified_customer(tracker, self.services.settings.customer_token_secret)
        try:
            status = await self.services.handoff_client.ticket_status(
                number,
                conversation_id=tracker.sender_id,
                verified_username=customer.username if customer is not None else None,
            )
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
