"""Rasa's REST channel with the socket.io channel's guarantees:

- no slash commands, text cut at the limit;
- the body's ``metadata`` object reaches the tracker (``language``,
  ``message_id``/``resend`` as the web chat sends them, ``customer_token``);
- the answer is sent once Rasa has stored the turn (Rasa's ``stream``
  mode, which sends replies before that, is not offered);
- a message whose handling fails answers ``503`` with a notice in the
  customer's language, never half a turn (Rasa answers ``200`` with
  whatever replies were collected);
- a message sent again (``resend: true`` with the same ``message_id``) is
  answered from the conversation if it holds it;
- a body that is not a JSON object with a ``sender`` answers ``400``, and
  so does a message with no text left once cleaned (empty, blank, a bare
  ``/``), with a notice in the customer's language.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.held import HeldCollectingOutput
from bot.channels.turn import OnNewMessage, Outcome, prepare_server, take_turn
from bot.settings import Settings, get_settings

__all__ = ["TriageRestInput"]

_MAX_SENDER_CHARS = 256
_BAD_BODY = f"expected a JSON object with a 'sender' (1-{_MAX_SENDER_CHARS} characters) and a 'message'"


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # sanic: not JSON
        return None


class TriageRestInput(RestInput):
    """Rasa's REST channel following the turn protocol of bot.channels.turn."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None, settings: Settings | None = None) -> TriageRestInput:
        return cls(settings)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        prepare_server(self.settings)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = _json_body(request)
            sender_id = body.get("sender") if isinstance(body, dict) else None
            if not isinstance(sender_id, str) or not sender_id.strip() or len(sender_id) > _MAX_SENDER_CHARS:
                return response.json({"error": _BAD_BODY}, status=400)
            output = HeldCollectingOutput()
            turn = await take_turn(
                app=request.app,
                settings=self.settings,
                input_channel=self.name(),
                sender_id=sender_id,
                text=body.get("message"),
                metadata=body.get("metadata"),
                output=output,
                on_new_message=on_new_message,
            )
            if turn.notice is not None:
                status = 400 if turn.outcome is Outcome.EMPTY else 503
                return response.json([{"recipient_id": sender_id, **turn.notice}], status=status)
            return response.json(output.messages)

        return webhook
