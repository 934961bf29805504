"""A customer message sent again: answered from the conversation if it
already holds it, never handled twice."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from rasa.shared.core.events import BotUttered, UserUttered

__all__ = ["MESSAGE_ID_KEY", "RESEND_KEY", "message_id_of", "resent_message_id", "replies_to", "stored_replies"]

logger = logging.getLogger(__name__)

MESSAGE_ID_KEY = "message_id"  # in the customer message's metadata (customData)
RESEND_KEY = "resend"  # true when the client sends a message again: only then is the conversation read first
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def message_id_of(metadata: dict[str, Any]) -> str | None:
    value = metadata.get(MESSAGE_ID_KEY)
    return value if isinstance(value, str) and _MESSAGE_ID.match(value) else None


def resent_message_id(metadata: dict[str, Any]) -> str | None:
    """The message id of a message sent again, else None (and an invalid id
    is dropped from the metadata)."""
    message_id = message_id_of(metadata)
    if message_id is None:
        metadata.pop(MESSAGE_ID_KEY, None)
    return message_id if message_id and metadata.get(RESEND_KEY) is True else None


def replies_to(events: Iterable[Any], message_id: str) -> list[BotUttered] | None:
    """The bot's replies to the customer message carrying ``message_id``, or
    None when the conversation does not hold that message."""
    replies: list[BotUttered] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if isinstance(event.metadata, dict) and event.metadata.get(MESSAGE_ID_KEY) == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(event)
    return replies


async def stored_replies(app: Any, sender_id: str, message_id: str) -> list[BotUttered] | None:
    """The stored replies to a message the conversation already holds; None
    if it does not hold it (or no agent runs). Read under the conversation's
    lock: a replica still handling the first delivery finishes (and stores)
    before this looks; a dead one's lock expires first."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    if agent is None or getattr(agent, "tracker_store", None) is None:
        return None
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
    replies = replies_to(tracker.events if tracker else [], message_id)
    if replies is not None:
        logger.info("message %s was handled before: its %d replies sent again", message_id, len(replies))
    return replies
