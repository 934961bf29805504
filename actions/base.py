"""The shared base of the actions: services passed in, not imported."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from .services import Services, default_services

__all__ = ["ServiceAction", "ServiceFormValidation"]


class ServiceAction(Action, abc.ABC):
    """Abstract, so rasa_sdk does not register it as an action."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @abc.abstractmethod
    def name(self) -> str: ...

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = default_services()
        return self._services


class ServiceFormValidation(FormValidationAction, ServiceAction, abc.ABC):
    """A form validation action that may also set slots outside the form.

    rasa_sdk keeps only the form's own slots from extraction (and none once
    ``required_slots`` is empty); the age check must also set its outcome
    and the count of tries, so those extracted slots are passed through.
    """

    def __init__(self, services: Services | None = None) -> None:
        ServiceAction.__init__(self, services)

    @abc.abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self._extract_validation_events(dispatcher, tracker, domain)
        kept = {event["name"] for event in validated if event.get("event") == "slot"}
        return [event for event in extracted if event["name"] not in kept] + validated
