"""Rasa's REST channel with the socket.io channel's guarantees:

- no slash commands, text cut at the limit;
- the body's ``metadata`` object reaches the tracker (``language``,
  ``message_id``/``resend`` as the web chat sends them, ``customer_token``,
  the pre-chat form's ``prechat``);
- the answer is sent once Rasa has stored the turn (Rasa's ``stream``
  mode, which sends replies before that, is not offered);
- a message whose handling fails answers ``503`` with a notice in the
  customer's language, never half a turn (Rasa answers ``200`` with
  whatever replies were collected);
- a message sent again (``resend: true`` with the same ``message_id``) is
  answered from the conversation if it holds it;
- a body without a ``sender`` starts a new conversation: the channel picks
  its id and the answer carries it and its secret in the
  ``X-Conversation-Id`` and ``X-Conversation-Secret`` headers; a body with
  a ``sender`` must send that secret in the ``X-Conversation-Secret``
  header (never in the URL), or it answers ``403`` with a notice in the
  customer's language and nothing is handled;
- a body that is not a JSON object, or whose ``sender`` is not a string of
  1-256 characters, answers ``400``, and so does a message with no text
  left once cleaned (empty, blank, a bare ``/``), with a notice in the
  customer's language.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.access import holds, refusal, start_conversation
from bot.channels.held import HeldCollectingOutput
from bot.channels.text import read_metadata
from bot.channels.turn import OnNewMessage, Outcome, prepare_server, take_turn
from bot.settings import Settings, get_settings
from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER

__all__ = ["TriageRestInput", "CONVERSATION_ID_HEADER", "CONVERSATION_SECRET_HEADER"]

_MAX_SENDER_CHARS = 256
_BAD_BODY = (
    f"expected a JSON object with a 'message' and, to continue a conversation, its 'sender' "
    f"(1-{_MAX_SENDER_CHARS} characters)"
)


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
            if not isinstance(body, dict):
                return response.json({"error": _BAD_BODY}, status=400)
            sender_id = body.get("sender")
            if sender_id is None:
                issued = start_conversation(self.settings)
                sender_id, secret = issued.conversation_id, issued.secret
            elif not isinstance(sender_id, str) or not sender_id.strip() or len(sender_id) > _MAX_SENDER_CHARS:
                return response.json({"error": _BAD_BODY}, status=400)
            else:
                secret = str(request.headers.get(CONVERSATION_SECRET_HEADER) or "")
                if not holds(self.settings, sender_id, secret):
                    metadata = read_metadata(body.get("metadata"), self.settings.max_metadata_bytes)
                    notice = refusal(self.settings, metadata.kept.get("language"))
                    return response.json([{"recipient_id": sender_id, **notice}], status=403)
            headers = {
                CONVERSATION_ID_HEADER: sender_id,
                CONVERSATION_SECRET_HEADER: secret,
                "Cache-Control": "no-store",
            }
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
                return response.json([{"recipient_id": sender_id, **turn.notice}], status=status, headers=headers)
            return response.json(output.messages, headers=headers)

        return webhook
