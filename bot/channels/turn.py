"""One customer message, one turn: the protocol both input channels follow.

1. The text is cleaned (bot.channels.text); nothing is left (an empty or
   blank message, a bare "/"): no turn, and the customer gets a notice
   asking for their question. The metadata keeps only the keys the product
   reads; larger than the limit as sent, it loses the customer token too
   and the customer gets a notice with the replies (the message itself is
   handled: it is what they wrote).
2. A message sent again whose first delivery the conversation holds is
   answered with the replies stored for it (bot.channels.replay).
3. Otherwise Rasa handles it with replies held (bot.channels.held); they
   are released once Rasa has stored the turn.
4. If handling fails the turn is not stored: the held replies are dropped
   and the customer gets a notice asking to send the message again, never
   half a turn and never a stack trace.

The channel delivers the outcome its own way (socket emits, HTTP answer).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot import installs
from bot.channels.access import warn_if_key_generated
from bot.channels.held import HeldOutput
from bot.channels.notices import load_channel_notices
from bot.channels.replay import resent_message_id, stored_replies
from bot.channels.text import clean_customer_text, read_metadata
from bot.settings import Settings

__all__ = ["Outcome", "Turn", "take_turn", "prepare_server"]

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class Outcome(enum.Enum):
    EMPTY = "empty"  # no text left to handle: ``notice`` to send
    REPLAYED = "replayed"  # a message sent again, answered from the conversation
    HANDLED = "handled"  # the turn is stored, its replies released
    FAILED = "failed"  # not stored: replies dropped, ``notice`` to send


@dataclass(frozen=True)
class Turn:
    outcome: Outcome
    notice: dict[str, Any] | None = None


def prepare_server(settings: Settings) -> None:
    """What a channel needs before it serves: our changes to Rasa installed
    in this Rasa server (bot/installs.py) and its notices loaded (a broken
    notices file stops the server at start, not a customer's turn)."""
    installs.install()
    load_channel_notices(settings.channel_notices_path)
    warn_if_key_generated(settings)


async def take_turn(
    *,
    app: Any,
    settings: Settings,
    input_channel: str,
    sender_id: str,
    text: Any,
    metadata: Any,
    output: HeldOutput,
    on_new_message: OnNewMessage,
) -> Turn:
    """Runs one customer message through the protocol above. ``app`` is the
    Sanic app serving the channel (Rasa keeps its agent in ``app.ctx.agent``)."""
    cleaned = clean_customer_text(text, settings.max_message_chars)
    read = read_metadata(metadata, settings.max_metadata_bytes)
    meta = read.kept
    if not cleaned:
        notices = load_channel_notices(settings.channel_notices_path)
        return Turn(Outcome.EMPTY, notices.message("empty_message", meta.get("language")))
    if read.oversized:
        logger.info("customer metadata over %d bytes: handled without it", settings.max_metadata_bytes)
        notices = load_channel_notices(settings.channel_notices_path)
        output.hold_notice(sender_id, notices.message("metadata_too_large", meta.get("language")))
    resent = resent_message_id(meta)
    if resent:
        replies = await stored_replies(app, sender_id, resent)
        if replies is not None:
            for reply in replies:
                await output.send_response(sender_id, reply.message())
            await output.release()
            return Turn(Outcome.REPLAYED)
    message = UserMessage(cleaned, output, sender_id, input_channel=input_channel, metadata=meta)
    try:
        await on_new_message(message)
    except Exception:  # the turn is not stored: no reply to it may show
        logger.exception("a customer message could not be handled; %d replies dropped", output.discard())
        notices = load_channel_notices(settings.channel_notices_path)
        return Turn(Outcome.FAILED, notices.message("not_handled", meta.get("language")))
    await output.release()
    return Turn(Outcome.HANDLED)
