"""Session start and the return from a human agent.

Rasa starts a new session after ``session_expiration_time`` of silence, and
its ``SessionStarted`` event un-pauses the conversation. A customer who waits
for an agent longer than that must stay with the agent, so our
``action_session_start`` carries the slots over (as Rasa's own does) and
pauses again while the ticket is open.

``action_resume_from_agent`` runs when the handoff service hands the
conversation back (intent ``agent_handed_back``), the agent resolved it
(``agent_resolved``) or the customer cancelled while queued
(``request_cancelled``): the triage answers are forgotten, the age check and the
language stay, and the bot speaks again.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from support_rules.tickets import CANCELLED_INTENT, CLOSED_STATUSES, HANDBACK_INTENT, RESOLVED_INTENT
from support_rules.triage import TRIAGE_SLOTS

from .base import ServiceAction
from .core.handoff_client import HandoffError

logger = logging.getLogger(__name__)

__all__ = ["ActionSessionStart", "ActionResumeFromAgent", "HANDBACK_RESPONSES"]

# What the bot says for each intent the handoff service triggers.
HANDBACK_RESPONSES = {
    HANDBACK_INTENT: "utter_handed_back",
    RESOLVED_INTENT: "utter_agent_resolved",
    CANCELLED_INTENT: "utter_request_cancelled",
}
# Slots that describe one request, forgotten when an agent is done with it.
REQUEST_SLOTS = TRIAGE_SLOTS + (
    "route",
    "faq_tried",
    "clarified",
    "requested_slot",
    "age_attempts",
    "triage_misses",
    "confirmation",
)
_NOT_CARRIED = ("requested_slot", "session_started_metadata")


def _reset_request() -> list[EventType]:
    return [SlotSet(slot, None) for slot in REQUEST_SLOTS]


class ActionSessionStart(ServiceAction):
    def name(self) -> str:
        return "action_session_start"

    async def _still_with_agent(self, tracker: Tracker) -> bool:
        """Paused and the ticket not known to be closed (when in doubt: yes)."""
        if not tracker.is_paused():
            return False
        number = tracker.get_slot("ticket_number")
        if not number:
            return True  # the handoff may still be in the outbox
        try:
            status = await self.services.handoff_client.ticket_status(number, conversation_id=tracker.sender_id)
        except HandoffError as exc:
            logger.warning("status of %s unknown at session start, kept with the agent: %s", number, exc)
            return True
        return status is None or status.get("status") not in CLOSED_STATUSES

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [
            SlotSet(name, value)
            for name, value in (tracker.slots or {}).items()
            if value is not None and name not in _NOT_CARRIED
        ]
        paused = tracker.is_paused()
        with_agent = await self._still_with_agent(tracker)
        if paused and not with_agent:
            events += _reset_request()
        events.append(ActionExecuted("action_listen"))
        if with_agent:
            events.append(ConversationPaused())
        return events


class ActionResumeFromAgent(ServiceAction):
    def name(self) -> str:
        return "action_resume_from_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")
        dispatcher.utter_message(response=HANDBACK_RESPONSES.get(intent, "utter_handed_back"))
        return _reset_request()
