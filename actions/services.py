"""What the actions use from outside: settings, catalogue, outbox, client.

Built on first use, never at import time, and replaceable in tests: every
action takes an optional ``Services`` in its constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from support_rules.catalogue import Catalogue, load_catalogue
from support_rules.priority import PriorityRules
from support_rules.triage import TriageRules
from support_rules.verification import VerificationTexts, load_verification

from .core.handoff_client import HandoffClient
from .core.outbox import Outbox
from .core.settings import Settings, get_settings

__all__ = ["Services", "default_services"]


@dataclass
class Services:
    settings: Settings
    clock: Callable[[], date] | None = None

    def today(self) -> date:
        if self.clock is not None:
            return self.clock()
        return datetime.now(ZoneInfo(self.settings.timezone)).date()

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.catalogue_path)

    @cached_property
    def priority_rules(self) -> PriorityRules:
        return PriorityRules.from_catalogue(self.catalogue)

    @cached_property
    def verification(self) -> VerificationTexts:
        return load_verification(self.settings.verification_path)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(
            self.settings.outbox_url,
            retry_seconds=self.settings.outbox_retry_seconds,
            max_retry_seconds=self.settings.outbox_max_retry_seconds,
        )

    @cached_property
    def handoff_client(self) -> HandoffClient:
        return HandoffClient(
            self.settings.handoff_url,
            self.settings.handoff_service_token,
            self.settings.handoff_timeout_seconds,
        )

    def triage_rules(self) -> TriageRules:
        return TriageRules(
            catalogue=self.catalogue,
            today=self.today(),
            max_age_days=self.settings.transaction_max_age_days,
            username_pattern=self.settings.username_pattern,
        )


_default: Services | None = None


def default_services() -> Services:
    global _default
    if _default is None:
        _default = Services(get_settings())
    return _default
