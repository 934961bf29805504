"""validate_triage_form and action_confirm_triage.

The form asks for topic, transaction type, transaction date and username.
Values are read by actions.core.triage; a value that cannot be read is
explained and asked again; other values in the same message are taken too;
a correction ("no, it was the 12th") overwrites what was there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from support_rules.language import fallback_language
from support_rules.tickets import CANCEL_INTENT

from .base import ServiceAction, ServiceFormValidation
from .conversation import is_answering_now
from .core.triage import TRIAGE_SLOTS, read_answer, read_mentions

# Why a value could not be read -> the response that says so.
ERROR_RESPONSES = {
    "unknown_topic": "utter_topic_not_understood",
    "unknown_transaction_type": "utter_transaction_type_not_understood",
    "unparsed": "utter_date_unreadable",
    "invalid": "utter_date_invalid",
    "future": "utter_date_future",
    "too_old": "utter_date_too_old",
    "invalid_username": "utter_username_invalid",
}
# Tried in this order on a bare answer to "what should I change?".
_CORRECTION_ORDER = ("transaction_date", "transaction_type", "topic", "username")


class ValidateTriageForm(ServiceFormValidation):
    def name(self) -> str:
        return "validate_triage_form"

    def _skips_date(self, type_id: str | None) -> bool:
        entry = self.services.catalogue.transaction_type(type_id) if type_id else None
        return bool(entry and entry.skips_date)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if self._skips_date(tracker.get_slot("transaction_type")):
            return [slot for slot in domain_slots if slot != "transaction_date"]
        return domain_slots

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """All values come from one message, so they are read once here
        rather than in one extract_<slot> method each."""
        if not is_answering_now(tracker, self.form_name()):
            return []  # the form is starting with values already known: nothing new to read
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        if intent == CANCEL_INTENT:
            return []  # nothing extracted: the form steps aside for the cancel rule
        text = message.get("text") or ""
        values = self._read(text, intent, tracker, dispatcher)
        if values.get("transaction_type") and self._skips_date(values["transaction_type"]):
            values["transaction_date"] = None
        return [SlotSet(slot, value) for slot, value in values.items()]

    def _read(
        self, text: str, intent: str | None, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, str | None]:
        rules = self.services.triage_rules()
        requested = tracker.get_slot("requested_slot")
        correcting = intent == "correct"
        mentions = read_mentions(text, rules)
        values: dict[str, str | None] = {}
        if requested in TRIAGE_SLOTS:
            answer = read_answer(requested, text, rules)
            if answer.value is not None:
                values[requested] = answer.value
            elif not (correcting and mentions):
                self._explain(answer.error, dispatcher)
                values[requested] = None
        else:
            # The form was started again to apply a correction.
            if not mentions:
                mentions = self._bare_correction(text, rules)
            if not mentions:
                dispatcher.utter_message(response="utter_correction_not_understood")
            correcting = True
        for slot, value in mentions.items():
            if slot != requested and (correcting or not tracker.get_slot(slot)):
                values[slot] = value
        return values

    @staticmethod
    def _bare_correction(text: str, rules: Any) -> dict[str, str]:
        for slot in _CORRECTION_ORDER:
            answer = read_answer(slot, text, rules)
            if answer.value is not None:
                return {slot: answer.value}
        return {}

    def _explain(self, error: str | None, dispatcher: CollectingDispatcher) -> None:
        response = ERROR_RESPONSES.get(error or "")
        if response:
            dispatcher.utter_message(response=response, max_days=self.services.settings.transaction_max_age_days)


def format_date(iso: str | None, language: str | None) -> str:
    if not iso:
        return "-"
    value = date.fromisoformat(iso)
    return value.strftime("%d.%m.%Y") if language == "tr" else value.isoformat()


class ActionConfirmTriage(ServiceAction):
    def name(self) -> str:
        return "action_confirm_triage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        catalogue = self.services.catalogue
        language = fallback_language(tracker.get_slot("language"))
        topic = catalogue.topic(tracker.get_slot("topic") or "")
        kind = catalogue.transaction_type(tracker.get_slot("transaction_type") or "")
        labels = {
            "topic_label": topic.label(language) if topic else "-",
            "transaction_type_label": kind.label(language) if kind else "-",
            "transaction_date_label": format_date(tracker.get_slot("transaction_date"), language),
        }
        response = "utter_confirm_triage_no_transaction" if kind and kind.skips_date else "utter_confirm_triage"
        dispatcher.utter_message(response=response, **labels)
        return []
