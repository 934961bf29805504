"""The texts of the notices a customer gets from this service, worded by
editors in data/notices.yml.

A notice is a short system message to the customer, not an agent's reply:
it goes out with ``CustomerChannel.notify`` and travels as a bot message
with ``metadata.kind == "notice"`` (the web chat shows it apart; the
transcript keeps it as kind ``notice``). Which notices are sent, and when,
is ``handoff/services/queue_notices.py``'s business; this module only holds
their wording: it loads the file and fills the placeholders, in the
ticket's language (the desk's default language when it is missing:
support_rules.language). No customer-facing text lives in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support_rules.language import fallback_language
from support_rules.notices import load_notices

__all__ = ["NoticeTexts", "load_notice_texts", "NoticeTextsError"]

REQUIRED = ("agent_joined", "queue_position", "documents_requested", "verification_approved", "verification_rejected")


class NoticeTextsError(RuntimeError):
    """The notices file is missing a notice or a language."""


@dataclass(frozen=True)
class NoticeTexts:
    by_key: dict[str, dict[str, str]]

    def render(self, key: str, language: str, **values: Any) -> str:
        by_language = self.by_key[key]
        template = by_language[fallback_language(language)]
        return template.format(**values)


def load_notice_texts(path: Path) -> NoticeTexts:
    return NoticeTexts(load_notices(path, REQUIRED, error=NoticeTextsError))
