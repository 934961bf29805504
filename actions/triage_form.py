"""validate_triage_form and action_confirm_triage.

The form asks for topic, transaction type, transaction date and username.
Values are read by support_rules.triage; a value that cannot be read is
explained and asked again; other values in the same message are taken too
(an answer to another question than the one asked fills its own slot);
a correction ("no, it was the 12th") overwrites what was there. After two
answers that fill nothing the bot offers the choices as buttons and a way
out: "I don't know" skips the slot, asking for a person ends the form with
the rest unknown. action_check_confirmation lets only a clear yes confirm.
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
from support_rules.triage import TRIAGE_SLOTS, Reading, read_answer, read_mentions

from .base import ServiceAction, ServiceFormValidation
from .conversation import is_answering_now
from .core.replies import MISSES_BEFORE_CHOICES, SKIPPED, confirmation_reply, is_skip, known, wants_person

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
# Unreadable answers in a row for the open question (reset once it is answered).
MISSES_SLOT = "triage_misses"
# Slots whose choices come from the catalogue -> the response introducing them.
CHOICE_RESPONSES = {"topic": "utter_choose_topic", "transaction_type": "utter_choose_transaction_type"}


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
    ) -> dict[str, Any]:
        rules = self.services.triage_rules()
        requested = tracker.get_slot("requested_slot")
        correcting = intent == "correct"
        mentions = read_mentions(text, rules)
        if requested not in TRIAGE_SLOTS:
            # The form was started again to apply a correction.
            if not mentions:
                mentions = self._bare_correction(text, rules)
            if not mentions:
                dispatcher.utter_message(response="utter_correction_not_understood")
            return dict(mentions)
        values: dict[str, Any] = {}
        # "bilmiyorum" or "temsilci" would pass for a username: these are read first.
        if wants_person(text, intent):
            values.update(self._rest_unknown(tracker, requested))
            values[MISSES_SLOT] = 0
            return values
        answer = Reading(SKIPPED) if is_skip(text) else read_answer(requested, text, rules)
        if answer.value is not None:
            values[requested] = answer.value
            values[MISSES_SLOT] = 0
        else:
            # Not the answer to this question: perhaps to another one.
            placed = {slot: value for slot, value in mentions.items() if slot != requested}
            values.update(placed)
            if not placed:
                values[requested] = None  # asked again
                values[MISSES_SLOT] = self._missed(requested, answer.error, tracker, dispatcher)
            return values
        for slot, value in mentions.items():
            if slot != requested and (correcting or not tracker.get_slot(slot)):
                values[slot] = value
        return values

    def _missed(self, slot: str, error: str | None, tracker: Tracker, dispatcher: CollectingDispatcher) -> int:
        """Count an answer that filled nothing; from the second one on, offer a way forward."""
        misses = int(tracker.get_slot(MISSES_SLOT) or 0) + 1
        if misses < MISSES_BEFORE_CHOICES:
            self._explain(error, dispatcher)
            return misses
        language = fallback_language(tracker.get_slot("language"))
        choice_response = CHOICE_RESPONSES.get(slot)
        if choice_response:
            catalogue = self.services.catalogue
            entries = catalogue.topics if slot == "topic" else catalogue.transaction_types
            labels = [entry.label(language) for entry in entries]
            buttons = [{"title": label, "payload": label} for label in labels]
            dispatcher.utter_message(response=choice_response, buttons=buttons)
        else:
            self._explain(error, dispatcher)
        dispatcher.utter_message(response="utter_triage_way_forward")
        return misses

    @staticmethod
    def _rest_unknown(tracker: Tracker, requested: str) -> dict[str, str]:
        """The customer wants a person: every value still missing is unknown."""
        return {slot: SKIPPED for slot in TRIAGE_SLOTS if slot == requested or not tracker.get_slot(slot)}

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
    iso = known(iso)
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
            "username": known(tracker.get_slot("username")) or "-",
        }
        response = "utter_confirm_triage_no_transaction" if kind and kind.skips_date else "utter_confirm_triage"
        dispatcher.utter_message(response=response, **labels)
        return []


class ActionCheckConfirmation(ServiceAction):
    """Sets ``confirmation``: clear (hand over), no (ask what to change) or vague (ask again)."""

    def name(self) -> str:
        return "action_check_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = message.get("intent") or {}
        reply = confirmation_reply(
            message.get("text") or "", intent.get("name"), float(intent.get("confidence") or 0.0)
        )
        return [SlotSet("confirmation", reply)]
