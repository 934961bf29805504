"""validate_age_form: the age check before any help is given."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from support_rules.dates import check_birth_date
from support_rules.tickets import CANCEL_INTENT

from .base import ServiceFormValidation
from .core.routes import MAX_AGE_ATTEMPTS

# Outcome of a check that asks again -> the response that says why.
_RETRY_RESPONSES = {
    "unparsed": "utter_birth_date_unreadable",
    "invalid": "utter_birth_date_invalid",
    "future": "utter_birth_date_future",
    "implausible": "utter_birth_date_implausible",
}


class ValidateAgeForm(ServiceFormValidation):
    def name(self) -> str:
        return "validate_age_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Done once there is an outcome, or after too many unreadable dates."""
        attempts = int(tracker.get_slot("age_attempts") or 0)
        if tracker.get_slot("age_status") or attempts >= MAX_AGE_ATTEMPTS:
            return []
        return domain_slots

    async def extract_birth_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "birth_date":
            return {}
        message = tracker.latest_message or {}
        if (message.get("intent") or {}).get("name") == CANCEL_INTENT:
            return {}  # the form steps aside and the cancel rule runs
        check = check_birth_date(message.get("text") or "", self.services.today())
        if check.outcome in ("over_18", "under_18"):
            return {"birth_date": None, "age_status": check.outcome, "age_method": "birth_date"}
        attempts = int(tracker.get_slot("age_attempts") or 0) + 1
        if attempts < MAX_AGE_ATTEMPTS:
            dispatcher.utter_message(response=_RETRY_RESPONSES[check.outcome])
        return {"birth_date": None, "age_attempts": attempts}

    async def validate_birth_date(
        self, value: str | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Whatever filled the slot, the date itself is never kept."""
        return {"birth_date": None}
