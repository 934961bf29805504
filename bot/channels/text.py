"""Customer text and metadata as they reach the bot."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["clean_customer_text", "read_metadata"]


def _whole_characters(text: str) -> str:
    """``text`` with each unpaired surrogate (half an emoji, as a browser may
    send a string cut in the middle; JSON lets ``"\\ud83d"`` through) as U+FFFD:
    such a string cannot be written as UTF-8, so no store could keep it."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_customer_text(text: Any, max_chars: int) -> str:
    """Customer text as NLU may see it: whole characters, no leading slash,
    at most ``max_chars``."""
    if not isinstance(text, str):
        return ""
    cleaned = _whole_characters(text).strip()
    while cleaned.startswith("/"):
        cleaned = cleaned[1:].lstrip()
    return cleaned[: max(1, max_chars)]


def read_metadata(raw: Any) -> dict[str, Any]:
    """The message metadata the client sent (an object, or its JSON text);
    anything else is no metadata."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}
