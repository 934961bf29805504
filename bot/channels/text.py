"""Customer text and metadata as they reach the bot."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["clean_customer_text", "read_metadata"]


def clean_customer_text(text: Any, max_chars: int) -> str:
    """Customer text as NLU may see it: no leading slash, at most ``max_chars``."""
    if not isinstance(text, str):
        return ""
    cleaned = text.strip()
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
