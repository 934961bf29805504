"""What the inbound mail use cases work with, built once per process: the
mail texts, the triage the bot's rules read requests with, the document
checks. ``handoff.mail.server`` builds it from the app's resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoff.live_bus import LiveUpdate
from handoff.services.intake import Triage
from handoff.services.mail_attachments import ATTACHMENT_TEXTS, DocumentChecks
from handoff.services.outbound_mail import MailTexts, MailTextsError
from handoff.settings import Settings
from support_rules.language import SUPPORTED_LANGUAGES

__all__ = ["MailDesk", "MailOutcome"]


@dataclass(frozen=True)
class MailDesk:
    settings: Settings
    texts: MailTexts
    triage: Triage
    checks: DocumentChecks

    def __post_init__(self) -> None:
        missing = [key for key in ATTACHMENT_TEXTS if key not in self.texts.by_key]
        if missing:
            raise MailTextsError(f"{self.settings.mail_texts_path}: missing {', '.join(missing)}")

    @property
    def domain(self) -> str:
        return self.settings.mail_address.rpartition("@")[2] or "desk.localhost"

    @property
    def auto_limit(self) -> int:
        return self.settings.mail_auto_replies_per_hour

    @property
    def draft_subjects(self) -> set[str]:
        """The desk's subject lines of a draft's question, ``{subject}`` left in."""
        return {self.texts.by_key["subject_draft"][lang] for lang in SUPPORTED_LANGUAGES}


@dataclass
class MailOutcome:
    """What one inbound mail did, and the live updates to publish once the
    transaction has committed."""

    action: str  # duplicate | dropped | added | asked | opened | joined | refused
    ticket_number: str | None = None
    updates: list[LiveUpdate] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
