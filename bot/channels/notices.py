"""What a channel tells a customer itself, worded by editors in
data/channel_notices.yml and loaded once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.notices import load_notices

__all__ = ["ChannelNotices", "load_channel_notices", "REQUIRED"]

REQUIRED = ("not_handled", "conversation_refused", "metadata_too_large", "empty_message")


class ChannelNotices:
    def __init__(self, texts: dict[str, dict[str, str]]) -> None:
        self.texts = texts

    def text(self, key: str, language: Any) -> str:
        """The notice in the customer's language; in every language (one a
        line) while that is not known."""
        by_language = self.texts[key]
        if isinstance(language, str) and language in by_language:
            return by_language[language]
        return "\n".join(by_language[lang] for lang in SUPPORTED_LANGUAGES)

    def message(self, key: str, language: Any) -> dict[str, Any]:
        """The notice as a bot message (the web chat shows it as a notice)."""
        return {"text": self.text(key, language), "metadata": {"kind": "notice"}}


@lru_cache(maxsize=4)
def load_channel_notices(path: Path) -> ChannelNotices:
    return ChannelNotices(load_notices(path, REQUIRED))
