"""A customer conversation: its id, the secret that proves who holds it, and
the short reference people see instead of the id.

The conversation id (Rasa's sender id) is picked by the Rasa channel, never
by the client, and the channel hands the customer's browser, once, the
secret ``HMAC-SHA256(key, id)``. Every join and every message has to show
it again. It is stateless: any Rasa replica with the same key checks it
without a lookup.

Agents, exports and logs show ``conversation_ref(id)`` instead of the id: a
hash prefix, enough to tell conversations apart and to find one in the logs,
never the id itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any, Final

__all__ = [
    "CONVERSATION_ID_PATTERN",
    "CONVERSATION_REF_PREFIX",
    "CONVERSATION_ID_HEADER",
    "CONVERSATION_SECRET_HEADER",
    "new_conversation_id",
    "is_conversation_id",
    "conversation_secret",
    "secret_matches",
    "conversation_ref",
]

# what a channel issues (uuid4 hex) and accepts back; other ids (the handoff
# service's tests, older clients) stay valid sender ids elsewhere
CONVERSATION_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{8,64}$"
_CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)
CONVERSATION_REF_PREFIX: Final = "C-"
_REF_HEX_CHARS: Final = 12
# the REST channel: the answer to a first message carries the new
# conversation's id and secret; every later request sends the secret back
# (a header, never the URL)
CONVERSATION_ID_HEADER: Final = "X-Conversation-Id"
CONVERSATION_SECRET_HEADER: Final = "X-Conversation-Secret"


def new_conversation_id() -> str:
    """A fresh, unguessable conversation id (122 random bits)."""
    return uuid.uuid4().hex


def is_conversation_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_CONVERSATION_ID.match(value))


def conversation_secret(key: str, conversation_id: str) -> str:
    """The secret of ``conversation_id``: only the channel (holding ``key``)
    can compute it, so only the browser it was issued to knows it."""
    return hmac.new(key.encode(), conversation_id.encode(), hashlib.sha256).hexdigest()


def secret_matches(key: str, conversation_id: Any, secret: Any) -> bool:
    """True when ``secret`` is the secret of ``conversation_id`` (compared in
    constant time); anything malformed is False."""
    if not key or not is_conversation_id(conversation_id) or not isinstance(secret, str) or len(secret) > 128:
        return False
    return hmac.compare_digest(conversation_secret(key, conversation_id), secret)


def conversation_ref(conversation_id: str) -> str:
    """The short reference agents and logs show for a conversation (a SHA-256
    prefix: the same id always gives the same reference; the reference does
    not give the id back)."""
    digest = hashlib.sha256(conversation_id.encode()).hexdigest()
    return f"{CONVERSATION_REF_PREFIX}{digest[:_REF_HEX_CHARS]}"
