"""Who a customer is, as the bot tells the handoff service.

A username is either proven by the platform's signed customer token or
typed by the customer (the summary's ``username_source``, in
schemas/handoff_summary.schema.json). A customer asking about a ticket is
answered only about their own: the bot names the conversation asking, and
the verified username if there is one, in two headers of the status
request (schemas/README.md), percent-encoded, never in the URL.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote, unquote

__all__ = [
    "USERNAME_VERIFIED",
    "USERNAME_TYPED",
    "CONVERSATION_HEADER",
    "VERIFIED_USERNAME_HEADER",
    "header_value",
    "from_header_value",
]

USERNAME_VERIFIED: Final = "verified_token"
USERNAME_TYPED: Final = "typed"

CONVERSATION_HEADER: Final = "Conversation-Id"
VERIFIED_USERNAME_HEADER: Final = "Verified-Username"


def header_value(text: str) -> str:
    """Any text as an ASCII header value."""
    return quote(text, safe="")


def from_header_value(value: str) -> str:
    return unquote(value)
