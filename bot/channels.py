"""Customer channels: Rasa's socket.io and REST channels with our fixes.

``credentials.yml`` names these classes instead of Rasa's own. They keep the
channel names ``socketio`` and ``rest``, so ``output_channel=latest`` (how
the handoff service reaches a customer) finds them.

What they change:

- A leading "/" is removed from customer text. Rasa reads ``/intent{...}``
  as a ready-made intent and ``/restart`` un-pauses a handed-off
  conversation; a customer must not be able to do either.
- Text longer than ``CHANNEL_MAX_MESSAGE_CHARS`` (4,000 by default; the web
  chat page enforces the same limit) is cut there before NLU sees it.
- socket.io: the room join is awaited (python-socketio >= 5.10 made
  ``enter_room`` a coroutine, RasaHQ/rasa#13027), a socket may only speak for
  the session it joined, malformed payloads are dropped, bot messages carry
  the sender metadata the web chat uses (agent name, notice), and with
  ``SOCKETIO_REDIS_URL`` set a Redis client manager lets a push handled by one
  Rasa replica reach a socket held by another (sticky sessions still needed).
- socket.io: the bot's replies to a customer message are held until Rasa has
  handled it, and so stored the turn (what Rasa's REST channel does). Rasa
  itself emits each reply as its action runs and stores the turn afterwards:
  a replica dying in between showed the customer replies to a message the
  conversation then did not hold, and the conversation lost its place. Now a
  customer sees a reply only to what is stored; a message whose handling
  fails gets a notice asking to send it again, never half a turn.
- Both: a message sent again (``resend: true``) with the ``message_id`` it
  carried before (the web chat resends what the server did not acknowledge
  when its socket died) is not handled twice: if the conversation already
  holds it, its stored replies are sent again instead.
- REST: the same guarantees (replies once the turn is stored, a failed turn
  answered with a notice and 503, resends, the body's ``metadata``), and a
  malformed body answers 400 (see ``TriageRestInput``).
"""
from __future__ import annotations

import json
import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import socketio
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage, decode_bearer_token
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import schema_checks

__all__ = [
    "TriageSocketIOInput",
    "TriageSocketIOOutput",
    "HeldSocketIOOutput",
    "TriageRestInput",
    "clean_customer_text",
    "MESSAGE_METADATA_KEYS",
]

logger = logging.getLogger(__name__)

schema_checks.install()  # the Rasa server loads these channels: see bot/schema_checks.py

# Keys of a bot event's metadata that the web chat may show.
MESSAGE_METADATA_KEYS = ("sender", "agent_name", "kind")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
MESSAGE_ID_KEY = "message_id"  # in the customer message's metadata (customData)
RESEND_KEY = "resend"  # true when the client sends a message again: only then is the conversation read first
_DEFAULT_MAX_CHARS = 4000


def _max_chars() -> int:
    try:
        return max(1, int(os.environ.get("CHANNEL_MAX_MESSAGE_CHARS", _DEFAULT_MAX_CHARS)))
    except ValueError:
        return _DEFAULT_MAX_CHARS


def clean_customer_text(text: Any, max_chars: Optional[int] = None) -> str:
    """Customer text as NLU may see it: no leading slash, bounded length."""
    if not isinstance(text, str):
        return ""
    cleaned = text.strip()
    while cleaned.startswith("/"):
        cleaned = cleaned[1:].lstrip()
    return cleaned[: max_chars or _max_chars()]


def _metadata(raw: Any) -> Dict[Text, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


class TriageSocketIOOutput(SocketIOOutput):
    """Adds the sender metadata (agent name, notice) to each bot message."""

    @staticmethod
    def _with_metadata(message: Dict[Text, Any], kwargs: Dict[Text, Any]) -> Dict[Text, Any]:
        shown = {key: kwargs[key] for key in MESSAGE_METADATA_KEYS if kwargs.get(key)}
        if shown:
            message["metadata"] = shown
        return message

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, self._with_metadata({"text": part}, kwargs))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        parts = text.strip().split("\n\n") or [text]
        messages = [self._with_metadata({"text": part, "quick_replies": []}, kwargs) for part in parts]
        messages[-1]["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        for message in messages:
            await self._send_message(recipient_id, message)


# Told when a customer message could not be handled (the turn is not stored).
NOT_HANDLED = {
    "tr": "Mesajınızı şu anda işleyemedik. Lütfen biraz sonra tekrar gönderin.",
    "en": "We could not process your message just now. Please send it again in a moment.",
}


class HeldSocketIOOutput(TriageSocketIOOutput):
    """The replies of one customer message, held until Rasa has stored the
    turn: ``release`` sends them, ``discard`` drops them."""

    def __init__(self, sio: socketio.AsyncServer, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: List[Dict[Text, Any]] = []

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.held.append({"data": response, "room": socket_id})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        # Rasa's SocketIOOutput emits custom JSON as keyword arguments of emit
        self.held.append({"room": recipient_id, **json_message})

    async def release(self) -> None:
        held, self.held = self.held, []
        for emit in held:
            await self.sio.emit(self.bot_message_evt, **emit)

    def discard(self) -> int:
        dropped, self.held = len(self.held), []
        return dropped


def message_id_of(metadata: Dict[Text, Any]) -> Optional[str]:
    value = metadata.get(MESSAGE_ID_KEY)
    return value if isinstance(value, str) and _MESSAGE_ID.match(value) else None


def replies_to(events: Any, message_id: str) -> Optional[List[BotUttered]]:
    """The bot's replies to the customer message carrying ``message_id``, or
    None when the conversation does not hold that message."""
    replies: Optional[List[BotUttered]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if isinstance(event.metadata, dict) and event.metadata.get(MESSAGE_ID_KEY) == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(event)
    return replies


async def stored_replies(app: Any, sender_id: Text, message_id: str) -> Optional[List[BotUttered]]:
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


def _is_resend(metadata: Dict[Text, Any]) -> Optional[str]:
    """The message id of a message sent again, else None (and an invalid id
    is dropped from the metadata)."""
    message_id = message_id_of(metadata)
    if message_id is None:
        metadata.pop(MESSAGE_ID_KEY, None)
    return message_id if message_id and metadata.get(RESEND_KEY) is True else None


def not_handled_notice(language: Any) -> Dict[Text, Any]:
    text = NOT_HANDLED.get(language) if isinstance(language, str) else None
    return {"text": text or f"{NOT_HANDLED['tr']}\n{NOT_HANDLED['en']}", "metadata": {"kind": "notice"}}


class TriageSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with the fixes listed in the module docstring."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TriageSocketIOInput":
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "customData"),
        )
        channel.redis_url = os.environ.get("SOCKETIO_REDIS_URL") or credentials.get("redis_url") or None
        channel.redis_channel = (
            os.environ.get("SOCKETIO_REDIS_CHANNEL") or credentials.get("redis_channel") or "rasa-socketio"
        )
        origins = os.environ.get("WEBCHAT_ORIGINS") or credentials.get("cors_allowed_origins") or ""
        channel.allowed_origins = [o.strip() for o in str(origins).split(",") if o.strip()]
        return channel

    redis_url: Optional[str] = None
    redis_channel: str = "rasa-socketio"
    allowed_origins: List[str] = []
    app: Any = None  # the Sanic app serving the channel: Rasa keeps its agent in app.ctx.agent

    async def replay(self, sender_id: Text, message_id: str) -> bool:
        """Sends again the stored replies to a message the conversation
        already holds; False if it does not hold it."""
        replies = await stored_replies(self.app, sender_id, message_id) if self.sio is not None else None
        if replies is None:
            return False
        output = TriageSocketIOOutput(self.sio, self.bot_message_evt)
        for reply in replies:
            await output.send_response(sender_id, reply.message())
        return True

    def get_output_channel(self) -> Optional[TriageSocketIOOutput]:
        if self.sio is None:
            return None
        return TriageSocketIOOutput(self.sio, self.bot_message_evt)

    def _server(self) -> socketio.AsyncServer:
        manager = socketio.AsyncRedisManager(self.redis_url, channel=self.redis_channel) if self.redis_url else None
        # An empty list leaves origins unchecked (Rasa's own behaviour).
        return socketio.AsyncServer(
            async_mode="sanic", cors_allowed_origins=self.allowed_origins or [], client_manager=manager
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = self._server()
        # one blueprint per socket.io path, so two such channels can share an app
        suffix = re.sub(r"[^a-z0-9]+", "_", (self.socketio_path or "").lower()).strip("_")
        name = "socketio_webhook" if suffix == "socket_io" else f"socketio_webhook_{suffix}"
        webhook = SocketBlueprint(sio, self.socketio_path, name, url_prefix=f"/{name}")
        self.sio = sio
        namespace = self.namespace

        @webhook.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self.app = app

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and _SESSION_ID.match(requested) else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                joined = (await sio.get_session(sid, namespace=namespace)).get("session_id")
                if not joined or data.get("session_id") != joined:
                    logger.info("socket.io message for a session this socket did not join: dropped")
                    return
                sender_id = joined
            else:
                sender_id = sid
            text = clean_customer_text(data.get("message"))
            if not text:
                return
            metadata = _metadata(data.get(self.metadata_key))
            resent = _is_resend(metadata)
            if resent and await self.replay(sender_id, resent):
                return
            output = HeldSocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
            try:
                await on_new_message(message)
            except Exception:  # the turn is not stored: no reply to it may show
                logger.exception("a customer message could not be handled; %d replies dropped", output.discard())
                await sio.emit(self.bot_message_evt, not_handled_notice(metadata.get("language")), room=sender_id, namespace=namespace)
                return
            await output.release()

        return webhook


class TriageRestInput(RestInput):
    """Rasa's REST channel, with the same guarantees as the socket.io one:

    - no slash commands, text cut at the limit;
    - the body's ``metadata`` object reaches the tracker (``language``,
      ``message_id``/``resend`` as the web chat sends them, ``customer_token``);
    - the answer is sent once Rasa has stored the turn (Rasa's ``stream``
      mode, which sends replies before that, is not offered);
    - a message whose handling fails answers ``503`` with a notice in the
      customer's language, never half a turn (Rasa answers ``200`` with
      whatever replies were collected);
    - a message sent again (``resend: true`` with the same ``message_id``)
      is answered from the conversation if it holds it;
    - a body that is not a JSON object with a ``sender`` answers ``400``.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic: not JSON
                body = None
            sender_id = body.get("sender") if isinstance(body, dict) else None
            if not isinstance(sender_id, str) or not sender_id.strip() or len(sender_id) > 256:
                return response.json(
                    {"error": "expected a JSON object with a 'sender' (1-256 characters) and a 'message'"}, status=400
                )
            text = clean_customer_text(body.get("message"))
            if not text:
                return response.json([])
            metadata = _metadata(body.get("metadata"))
            collector = CollectingOutputChannel()
            resent = _is_resend(metadata)
            if resent:
                replies = await stored_replies(request.app, sender_id, resent)
                if replies is not None:
                    for reply in replies:
                        await collector.send_response(sender_id, reply.message())
                    return response.json(collector.messages)
            message = UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=metadata)
            try:
                await on_new_message(message)
            except Exception:  # the turn is not stored: no reply to it may show
                logger.exception("a customer message could not be handled; %d replies dropped", len(collector.messages))
                notice = not_handled_notice(metadata.get("language"))
                return response.json([{"recipient_id": sender_id, **notice}], status=503)
            return response.json(collector.messages)

        return webhook
