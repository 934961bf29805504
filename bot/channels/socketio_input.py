"""Rasa's socket.io channel with our fixes (see bot/channels/__init__.py)."""

from __future__ import annotations

import logging
import re
from typing import Any

import socketio
from rasa.core.channels.channel import decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.access import holds, refusal, start_conversation
from bot.channels.formatting import TriageSocketIOOutput
from bot.channels.held import HeldSocketIOOutput
from bot.channels.text import read_metadata
from bot.channels.turn import OnNewMessage, prepare_server, take_turn
from bot.settings import Settings, get_settings

__all__ = ["TriageSocketIOInput"]

logger = logging.getLogger(__name__)

_DEFAULT_REDIS_CHANNEL = "rasa-socketio"
# the client's copy of its conversation's secret, next to ``session_id`` in
# ``session_request`` and every message (never in the metadata: it is not stored)
SECRET_KEY = "session_secret"
# what a client that names a conversation without its secret gets instead of
# ``session_confirm`` (a notice in the customer's language, as ``bot_uttered``)
REFUSED_EVENT = "session_refused"


class TriageSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel: awaited room join, a socket speaks only for
    the session it joined, the turn protocol of bot.channels.turn, optional
    Redis client manager. The settings (bot/settings.py) override
    credentials.yml."""

    settings: Settings
    redis_url: str | None = None
    redis_channel: str = _DEFAULT_REDIS_CHANNEL
    allowed_origins: list[str] = []
    app: Any = None  # the Sanic app serving the channel: Rasa keeps its agent in app.ctx.agent

    @classmethod
    def from_credentials(
        cls, credentials: dict[str, Any] | None, settings: Settings | None = None
    ) -> TriageSocketIOInput:
        credentials = credentials or {}
        settings = settings or get_settings()
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
        channel.settings = settings
        channel.redis_url = settings.socketio_redis_url or credentials.get("redis_url") or None
        channel.redis_channel = (
            settings.socketio_redis_channel or credentials.get("redis_channel") or _DEFAULT_REDIS_CHANNEL
        )
        origins = settings.webchat_origins or credentials.get("cors_allowed_origins") or ""
        channel.allowed_origins = [o.strip() for o in str(origins).split(",") if o.strip()]
        return channel

    def get_output_channel(self) -> TriageSocketIOOutput | None:
        if self.sio is None:
            return None
        return TriageSocketIOOutput(self.sio, self.bot_message_evt)

    def _server(self) -> socketio.AsyncServer:
        manager = socketio.AsyncRedisManager(self.redis_url, channel=self.redis_channel) if self.redis_url else None
        # An empty list leaves origins unchecked (Rasa's own behaviour).
        return socketio.AsyncServer(
            async_mode="sanic", cors_allowed_origins=self.allowed_origins or [], client_manager=manager
        )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        settings = getattr(self, "settings", None) or get_settings()
        prepare_server(settings)
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
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            """No ``session_id``: a new conversation, and its secret, issued
            once. A ``session_id``: joined only with its secret."""
            data = data if isinstance(data, dict) else {}
            requested = data.get("session_id")
            if requested is None or requested == "":
                issued = start_conversation(settings)
                session_id, secret = issued.conversation_id, issued.secret
            elif holds(settings, requested, data.get(SECRET_KEY)):
                session_id, secret = requested, data[SECRET_KEY]
            else:
                await sio.emit(REFUSED_EVENT, refusal(settings, data.get("language")), room=sid, namespace=namespace)
                return
            if self.session_persistence:
                previous = (await sio.get_session(sid, namespace=namespace)).get("session_id")
                if previous and previous != session_id:  # a new conversation on the same socket
                    await sio.leave_room(sid, previous, namespace=namespace)
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.save_session(sid, {"session_id": session_id}, namespace=namespace)
            confirm = {"session_id": session_id, SECRET_KEY: secret}
            await sio.emit("session_confirm", confirm, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                joined = (await sio.get_session(sid, namespace=namespace)).get("session_id")
                if not joined or data.get("session_id") != joined:
                    logger.info("socket.io message for a session this socket did not join: dropped")
                    return
                if not holds(settings, joined, data.get(SECRET_KEY)):
                    language = read_metadata(data.get(self.metadata_key or "metadata"), 256).kept.get("language")
                    await sio.emit(REFUSED_EVENT, refusal(settings, language), room=sid, namespace=namespace)
                    return
                sender_id = joined
            else:
                sender_id = sid
            turn = await take_turn(
                app=self.app,
                settings=settings,
                input_channel=self.name(),
                sender_id=sender_id,
                text=data.get("message"),
                metadata=data.get(self.metadata_key or "metadata"),
                output=HeldSocketIOOutput(sio, self.bot_message_evt),
                on_new_message=on_new_message,
            )
            if turn.notice is not None:
                await sio.emit(self.bot_message_evt, turn.notice, room=sender_id, namespace=namespace)

        return webhook
