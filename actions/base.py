"""The shared base of the actions: services passed in, not imported."""
from __future__ import annotations

import abc
from typing import Optional, Text

from rasa_sdk import Action

from .services import Services, default_services

__all__ = ["ServiceAction"]


class ServiceAction(Action, abc.ABC):
    """Abstract, so rasa_sdk does not register it as an action."""

    def __init__(self, services: Optional[Services] = None) -> None:
        self._services = services

    @abc.abstractmethod
    def name(self) -> Text:
        ...

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = default_services()
        return self._services
