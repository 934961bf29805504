"""Bot messages on the socket, with the sender metadata the web chat shows."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.socketio import SocketIOOutput

from support_rules.verification import REQUEST_DOCUMENTS_KEY

__all__ = ["TriageSocketIOOutput", "MESSAGE_METADATA_KEYS"]

# Keys of a bot event's metadata that the web chat may show, or act on
# (``request_documents``: offer the upload, support_rules.verification).
MESSAGE_METADATA_KEYS = ("sender", "agent_name", "kind", REQUEST_DOCUMENTS_KEY)


def with_metadata(message: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    shown = {key: kwargs[key] for key in MESSAGE_METADATA_KEYS if kwargs.get(key)}
    if shown:
        message["metadata"] = shown
    return message


class TriageSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, adding the sender metadata (agent name,
    notice) to each bot message."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, with_metadata({"text": part}, kwargs))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        parts = text.strip().split("\n\n") or [text]
        messages = [with_metadata({"text": part, "quick_replies": []}, kwargs) for part in parts]
        messages[-1]["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        for message in messages:
            await self._send_message(recipient_id, message)
