"""Output channels that hold the replies to one customer message until the
turn is stored: ``release`` sends them, ``discard`` drops them."""

from __future__ import annotations

from typing import Any

import socketio
from rasa.core.channels.channel import CollectingOutputChannel

from bot.channels.formatting import TriageSocketIOOutput

__all__ = ["HeldOutput", "HeldSocketIOOutput", "HeldCollectingOutput"]


class HeldSocketIOOutput(TriageSocketIOOutput):
    """The socket's replies, emitted on ``release``."""

    def __init__(self, sio: socketio.AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: list[dict[str, Any]] = []

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.held.append({"data": response, "room": socket_id})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # Rasa's SocketIOOutput emits custom JSON as keyword arguments of emit
        self.held.append({"room": recipient_id, **json_message})

    def hold_notice(self, recipient_id: str, notice: dict[str, Any]) -> None:
        """A channel notice (bot.channels.notices) sent with the replies."""
        self.held.append({"data": notice, "room": recipient_id})

    async def release(self) -> None:
        held, self.held = self.held, []
        for emit in held:
            await self.sio.emit(self.bot_message_evt, **emit)

    def discard(self) -> int:
        dropped, self.held = len(self.held), []
        return dropped


class HeldCollectingOutput(CollectingOutputChannel):
    """The REST channel's replies: the answer's body, sent by the route once
    the turn is stored (``release`` has nothing left to do)."""

    def hold_notice(self, recipient_id: str, notice: dict[str, Any]) -> None:
        """A channel notice (bot.channels.notices) in the answer, before the replies."""
        self.messages.append({"recipient_id": recipient_id, **notice})

    async def release(self) -> None:
        return None

    def discard(self) -> int:
        dropped = len(self.messages)
        self.messages.clear()
        return dropped


# what a channel hands the turn protocol (bot.channels.turn)
HeldOutput = HeldSocketIOOutput | HeldCollectingOutput
