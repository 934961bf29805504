"""The customer channels (bot/channels/) served by one real Sanic app the
way Rasa serves them, for tests/bot/test_socketio_channel.py and
test_rest_channel.py, with a real socket.io client."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.channels.rest_input import TriageRestInput
from bot.channels.socketio_input import TriageSocketIOInput
from bot.settings import Settings
from stack.live import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
# settings with nothing set: what credentials.yml says applies
UNSET = Settings.from_env({})


class ChannelServer:
    """One Sanic app for the test session, on its own loop in a thread
    (Sanic 21 patches its protocol class on first serve, so a second app in
    the same process fails). Its agent holds a real in-memory tracker store
    and lock store (what a resend is answered from); ``on_new_message``
    stands in for the rest of Rasa."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.received: list[UserMessage] = []
        self.storing = asyncio.Event()  # created here, used on self.loop (Python >= 3.10)
        # as credentials.yml configures it
        self.channel = TriageSocketIOInput.from_credentials(
            {
                "user_message_evt": "user_uttered",
                "bot_message_evt": "bot_uttered",
                "session_persistence": True,
                "metadata_key": "customData",
            },
            settings=UNSET,
        )
        # a second channel on the same app, as a replica with the Redis client manager
        self.redis_channel_name = f"rasa-socketio-test-{uuid.uuid4().hex[:8]}"
        self.replica = TriageSocketIOInput.from_credentials(
            {
                "session_persistence": True,
                "metadata_key": "customData",
                "socketio_path": "/socket-redis",
                "redis_url": REDIS_URL,
                "redis_channel": self.redis_channel_name,
                "cors_allowed_origins": "http://chat.example, http://localhost:8080",
            },
            settings=UNSET,
        )
        self.domain = Domain.empty()
        self.agent = Agent(
            domain=self.domain, tracker_store=InMemoryTrackerStore(self.domain), lock_store=InMemoryLockStore()
        )
        self.port = free_port()
        self.run(self._start())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def store(self, sender_id: str, message_id: str, replies: list[str]) -> None:
        """A conversation that already holds a message and its replies."""
        tracker = DialogueStateTracker(sender_id, self.domain.slots)
        tracker.update(UserUttered("earlier", metadata={"message_id": message_id}))
        for text in replies:
            tracker.update(BotUttered(text))
        await self.agent.tracker_store.save(tracker)

    async def _on_new_message(self, message: UserMessage) -> None:
        """Like Rasa's agent: replies while it handles a message, stores the turn after."""
        self.received.append(message)
        if message.text in {"two replies", "store fails"}:
            await message.output_channel.send_text_message(message.sender_id, "first")
            buttons = [{"title": "Yes", "payload": "/affirm"}]
            await message.output_channel.send_text_with_buttons(message.sender_id, "second", buttons)
            await message.output_channel.send_custom_json(message.sender_id, {"data": {"card": 1}})
            await self.storing.wait()
            if message.text == "store fails":
                raise ConnectionError("tracker store unreachable")

    async def _start(self) -> None:
        app = Sanic("channels_test")
        app.ctx.agent = self.agent
        app.blueprint(self.channel.blueprint(self._on_new_message))
        app.blueprint(self.replica.blueprint(self._on_new_message))
        app.blueprint(TriageRestInput(UNSET).blueprint(self._on_new_message), url_prefix="/webhooks/rest")
        self.server = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
        await self.server.startup()
        await self.server.before_start()  # as Rasa's server does: the socket channel remembers its app
        await self.server.start_serving()

    def close(self) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)


async def open_socket(
    url: str, request: dict[str, Any], path: str = "/socket.io", origin: str = "http://chat.example"
) -> tuple[socketio.AsyncClient, dict[str, Any], list[dict[str, Any]]]:
    """A socket that sent ``session_request`` with ``request``: the client, the
    server's answer (``session_confirm``'s, or ``{"refused": notice}``) and the
    bot messages it receives from then on."""
    client = socketio.AsyncClient(reconnection=False)
    answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    messages: list[dict[str, Any]] = []
    client.on("session_confirm", lambda data: answered.done() or answered.set_result(data))
    client.on("session_refused", lambda data: answered.done() or answered.set_result({"refused": data}))
    client.on("bot_uttered", lambda data: messages.append(data))
    await client.connect(url, transports=["polling"], socketio_path=path, headers={"Origin": origin})
    await client.emit("session_request", request)
    return client, await asyncio.wait_for(answered, 5), messages


async def socket_client(
    url: str, session: tuple[str, str] | None = None, path: str = "/socket.io", origin: str = "http://chat.example"
) -> tuple[socketio.AsyncClient, str, str, list[dict[str, Any]]]:
    """A socket in a new conversation, or in ``session`` (id, secret): the
    client, the session id, its secret and the bot messages it receives."""
    session_id, secret = session or (None, None)
    client, answer, messages = await open_socket(
        url, {"session_id": session_id, "session_secret": secret}, path, origin
    )
    assert "refused" not in answer, answer
    return client, answer["session_id"], answer["session_secret"], messages


async def close(client: socketio.AsyncClient) -> None:
    """Drop the connection without waiting for the long-poll to end."""
    try:
        await asyncio.wait_for(client.disconnect(), 1)
    except asyncio.TimeoutError:
        await client.eio.disconnect(abort=True)


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
