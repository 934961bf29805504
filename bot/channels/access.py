"""Which conversation a client may speak for.

The channel picks a new conversation's id itself and gives the client, once,
its secret (support_rules.conversations); a client that names a conversation
has to show that secret on every join and every message, or it is refused
(in the customer's language) and never joins or writes into it. Signed-in
customers are no exception: their token says who they are, the secret which
conversation is theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.channels.notices import load_channel_notices
from bot.settings import Settings
from support_rules.conversations import (
    conversation_ref,
    conversation_secret,
    new_conversation_id,
    secret_matches,
)

__all__ = ["IssuedConversation", "start_conversation", "holds", "refusal", "warn_if_key_generated"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedConversation:
    conversation_id: str
    secret: str


def start_conversation(settings: Settings) -> IssuedConversation:
    conversation_id = new_conversation_id()
    logger.info("conversation %s started", conversation_ref(conversation_id))
    return IssuedConversation(conversation_id, conversation_secret(settings.conversation_secret_key, conversation_id))


def holds(settings: Settings, conversation_id: Any, secret: Any) -> bool:
    """True when ``secret`` proves the client holds ``conversation_id``."""
    if secret_matches(settings.conversation_secret_key, conversation_id, secret):
        return True
    shown = conversation_ref(conversation_id) if isinstance(conversation_id, str) else "(no id)"
    logger.warning("a client named conversation %s without its secret: refused", shown)
    return False


def refusal(settings: Settings, language: Any) -> dict[str, Any]:
    """The notice a refused client gets (data/channel_notices.yml)."""
    return load_channel_notices(settings.channel_notices_path).message("conversation_refused", language)


def warn_if_key_generated(settings: Settings) -> None:
    if settings.conversation_secret_key_generated:
        logger.warning(
            "CONVERSATION_SECRET_KEY is not set: a random key was generated for this process; "
            "customers cannot resume their conversations after a restart or on another replica"
        )
