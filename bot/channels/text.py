"""Customer text and metadata as they reach the bot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.channels.replay import MESSAGE_ID_KEY, RESEND_KEY
from bot.tracker_store import TOKEN_METADATA_KEY
from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.prechat import PRECHAT_KEY, read_prechat

__all__ = ["clean_customer_text", "read_metadata", "CustomerMetadata", "METADATA_KEYS"]

LANGUAGE_KEY = "language"  # the page's language: the channels' notices use it
# The only metadata keys the product reads (the channels: language, message
# id, resend; the action server: the signed customer token and the web
# chat's pre-chat form, support_rules.prechat). Anything else
# a client sends is not kept: Rasa would store it twice per message and
# the handoff service would read it back, and nothing reads it (a customer's
# ``is_external`` is not Rasa's, which only Rasa itself sets).
METADATA_KEYS = (LANGUAGE_KEY, MESSAGE_ID_KEY, RESEND_KEY, TOKEN_METADATA_KEY, PRECHAT_KEY)
_MAX_MESSAGE_ID_CHARS = 64


@dataclass(frozen=True)
class CustomerMetadata:
    kept: dict[str, Any] = field(default_factory=dict)
    # larger than the limit as sent: only the small keys were kept (no token)
    oversized: bool = False


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


def _size(raw: Any) -> int:
    if isinstance(raw, str):
        return len(raw.encode("utf-8", "replace"))
    try:
        return len(json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    except (TypeError, ValueError):  # circular or otherwise odd: no size to trust
        return 1 << 30


def read_metadata(raw: Any, max_bytes: int) -> CustomerMetadata:
    """The message metadata the client sent (an object, or its JSON text),
    keeping only ``METADATA_KEYS`` with values of the right kind (the
    pre-chat form's fields as support_rules.prechat reads them); anything
    else is no metadata. Larger than ``max_bytes`` as sent: the customer
    token is dropped too (the other keys are small by their kind) and
    ``oversized`` is set, so the customer can be told."""
    oversized = _size(raw) > max_bytes
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return CustomerMetadata({}, oversized)
    if not isinstance(raw, dict):
        return CustomerMetadata({}, oversized)
    kept: dict[str, Any] = {}
    language = raw.get(LANGUAGE_KEY)
    if isinstance(language, str) and language in SUPPORTED_LANGUAGES:
        kept[LANGUAGE_KEY] = language
    message_id = raw.get(MESSAGE_ID_KEY)
    if isinstance(message_id, str) and len(message_id) <= _MAX_MESSAGE_ID_CHARS:
        kept[MESSAGE_ID_KEY] = message_id
    if raw.get(RESEND_KEY) is True:
        kept[RESEND_KEY] = True
    token = raw.get(TOKEN_METADATA_KEY)
    if isinstance(token, str) and token and not oversized:
        kept[TOKEN_METADATA_KEY] = token
    # kept when over the limit too: its fields are short by their limits, and
    # losing the form would mean asking again what the visitor just answered
    prechat = read_prechat(raw.get(PRECHAT_KEY))
    if prechat is not None:
        kept[PRECHAT_KEY] = prechat.as_metadata()
    return CustomerMetadata(kept, oversized)
