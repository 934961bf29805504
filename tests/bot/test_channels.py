"""The customer channels (bot/channels.py), served by a real Sanic app the
way Rasa serves them, with a real socket.io client."""
from __future__ import annotations

import asyncio
import os
import threading
import uuid
from contextlib import contextmanager
from typing import Any, Awaitable, Iterator

import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels import NOT_HANDLED, TriageRestInput, TriageSocketIOInput, clean_customer_text
from live_stack import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("/restart", "restart"),
        ("  //greet{\"x\": 1}", "greet{\"x\": 1}"),
        ("/ agent please", "agent please"),
        ("merhaba / selam", "merhaba / selam"),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_leading_slashes_are_removed(raw: Any, cleaned: str) -> None:
    assert clean_customer_text(raw) == cleaned


def test_text_is_cut_at_the_limit() -> None:
    assert clean_customer_text("a" * 5000, max_chars=4000) == "a" * 4000


class Served:
    def __init__(self, channel: TriageSocketIOInput, port: int, received: list[UserMessage]) -> None:
        self.channel, self.port, self.received = channel, port, received

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def _environment_without(*names: str) -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class _Server:
    """One Sanic app for the module, on its own loop in a thread (Sanic 21
    patches its protocol class on first serve, so a second app in the same
    process fails)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.received: list[UserMessage] = []
        self.storing = asyncio.Event()  # created here, used on self.loop (Python >= 3.10)
        with _environment_without("WEBCHAT_ORIGINS", "SOCKETIO_REDIS_URL", "SOCKETIO_REDIS_CHANNEL"):
            self._make_channels()
        self.port = free_port()
        self.run(self._start())

    def _make_channels(self) -> None:
        """As credentials.yml would configure them (make exports settings that override it)."""
        self.channel = TriageSocketIOInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
             "session_persistence": True, "metadata_key": "customData"}
        )
        # a second channel on the same app, as a replica with the Redis client manager
        self.redis_channel_name = f"rasa-socketio-test-{uuid.uuid4().hex[:8]}"
        self.replica = TriageSocketIOInput.from_credentials(
            {"session_persistence": True, "metadata_key": "customData", "socketio_path": "/socket-redis",
             "redis_url": REDIS_URL, "redis_channel": self.redis_channel_name,
             "cors_allowed_origins": "http://chat.example, http://localhost:8080"}
        )

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def _start(self) -> None:
        async def on_new_message(message: UserMessage) -> None:
            """Stands in for Rasa's agent, which sends replies while it
            handles a message and stores the turn after."""
            self.received.append(message)
            if message.text in {"two replies", "store fails"}:
                await message.output_channel.send_text_message(message.sender_id, "first")
                await message.output_channel.send_text_with_buttons(message.sender_id, "second", [{"title": "Yes", "payload": "/affirm"}])
                await message.output_channel.send_custom_json(message.sender_id, {"data": {"card": 1}})
                await self.storing.wait()
                if message.text == "store fails":
                    raise ConnectionError("tracker store unreachable")

        app = Sanic("channels_test")
        app.blueprint(self.channel.blueprint(on_new_message))
        app.blueprint(self.replica.blueprint(on_new_message))
        app.blueprint(TriageRestInput().blueprint(on_new_message), url_prefix="/webhooks/rest")
        self.server = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
        await self.server.startup()
        await self.server.start_serving()

    def close(self) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.close()


async def _client(
    url: str, session_id: Any = None, path: str = "/socket.io", origin: str = "http://chat.example"
) -> tuple[socketio.AsyncClient, str, list[dict]]:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    messages: list[dict] = []
    client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    client.on("bot_uttered", lambda data: messages.append(data))
    await client.connect(url, transports=["polling"], socketio_path=path, headers={"Origin": origin})
    await client.emit("session_request", {"session_id": session_id})
    return client, await asyncio.wait_for(confirmed, 5), messages


@pytest.fixture
def served(server: _Server) -> Served:
    server.received.clear()
    return Served(server.channel, server.port, server.received)


async def _close(client: socketio.AsyncClient) -> None:
    """Drop the connection without waiting for the long-poll to end."""
    try:
        await asyncio.wait_for(client.disconnect(), 1)
    except asyncio.TimeoutError:
        await client.eio.disconnect(abort=True)


async def _until(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_customer_joins_the_room_of_their_session_and_gets_pushes(served: Served, server: _Server) -> None:
    server.run(_test_a_customer_joins_the_room_of_their_session_and_gets_pushes(served))


async def _test_a_customer_joins_the_room_of_their_session_and_gets_pushes(served: Served) -> None:
    client, session_id, messages = await _client(served.url)
    try:
        output = served.channel.get_output_channel()
        await output.send_response(session_id, {"text": "Merhaba, ben Ayşe.", "sender": "agent", "agent_name": "Ayşe", "utter_action": "x"})
        await output.send_response(session_id, {"text": "Ayşe sohbete katıldı.", "kind": "notice"})
        await _until(lambda: len(messages) == 2)
        assert messages[0] == {"text": "Merhaba, ben Ayşe.", "metadata": {"sender": "agent", "agent_name": "Ayşe"}}
        assert messages[1] == {"text": "Ayşe sohbete katıldı.", "metadata": {"kind": "notice"}}
    finally:
        await _close(client)


def test_a_reconnecting_customer_keeps_their_session(served: Served, server: _Server) -> None:
    server.run(_test_a_reconnecting_customer_keeps_their_session(served))


async def _test_a_reconnecting_customer_keeps_their_session(served: Served) -> None:
    first, session_id, _ = await _client(served.url)
    await _close(first)
    second, again, messages = await _client(served.url, session_id)
    try:
        assert again == session_id
        await served.channel.get_output_channel().send_response(session_id, {"text": "still here"})
        await _until(lambda: messages == [{"text": "still here"}])
    finally:
        await _close(second)


def test_slash_commands_and_foreign_sessions_never_reach_the_bot(served: Served, server: _Server) -> None:
    server.run(_test_slash_commands_and_foreign_sessions_never_reach_the_bot(served))


async def _test_slash_commands_and_foreign_sessions_never_reach_the_bot(served: Served) -> None:
    client, session_id, _ = await _client(served.url)
    try:
        await client.emit("user_uttered", {"message": "/restart", "session_id": session_id, "customData": {"customer_token": "t"}})
        await client.emit("user_uttered", {"message": "hello", "session_id": "someone-elses-session-id"})
        await client.emit("user_uttered", "not a dict")
        await client.emit("user_uttered", {"message": "/", "session_id": session_id})
        await client.emit("user_uttered", {"message": "merhaba", "session_id": session_id, "customData": "{bad json"})
        await _until(lambda: len(served.received) == 2)
        await asyncio.sleep(0.2)
        assert [(m.text, m.sender_id, m.metadata) for m in served.received] == [
            ("restart", session_id, {"customer_token": "t"}),
            ("merhaba", session_id, {}),
        ]
        assert served.received[0].input_channel == "socketio"
    finally:
        await _close(client)


def test_an_invalid_session_id_gets_a_fresh_one(served: Served, server: _Server) -> None:
    server.run(_test_an_invalid_session_id_gets_a_fresh_one(served))


async def _test_an_invalid_session_id_gets_a_fresh_one(served: Served) -> None:
    client, session_id, _ = await _client(served.url, "../../etc<script>")
    try:
        assert session_id != "../../etc<script>" and len(session_id) == 32
    finally:
        await _close(client)


def test_the_rest_channel_strips_slash_commands_too(served: Served, server: _Server) -> None:
    server.run(_test_the_rest_channel_strips_slash_commands_too(served))


async def _test_the_rest_channel_strips_slash_commands_too(served: Served) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{served.url}/webhooks/rest/webhook", json={"sender": "s1", "message": "/restart"}) as response:
            assert response.status == 200
    assert [(m.text, m.sender_id, m.input_channel) for m in served.received] == [("restart", "s1", "rest")]


def test_with_redis_a_push_from_another_replica_reaches_the_socket(served: Served, server: _Server) -> None:
    server.run(_test_with_redis_a_push_from_another_replica_reaches_the_socket(server))


async def _test_with_redis_a_push_from_another_replica_reaches_the_socket(server: _Server) -> None:
    client, session_id, messages = await _client(f"http://127.0.0.1:{server.port}", path="/socket-redis")
    try:
        # another Rasa replica's emit travels through Redis to the replica holding the socket
        other_replica = socketio.AsyncRedisManager(REDIS_URL, channel=server.redis_channel_name, write_only=True)
        await other_replica.emit("bot_uttered", {"text": "from the other replica"}, room=session_id)
        await _until(lambda: messages == [{"text": "from the other replica"}])
        await other_replica.emit("bot_uttered", {"text": "not for you"}, room="some-other-session")
        await asyncio.sleep(0.3)
        assert messages == [{"text": "from the other replica"}]
    finally:
        await _close(client)


def test_a_page_from_another_origin_cannot_open_a_socket(served: Served, server: _Server) -> None:
    async def scenario() -> None:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await _client(f"http://127.0.0.1:{server.port}", path="/socket-redis", origin="http://evil.example")

    server.run(scenario())


def test_replies_show_only_once_the_turn_is_stored(served: Served, server: _Server) -> None:
    server.run(_test_replies_show_only_once_the_turn_is_stored(served, server))


async def _test_replies_show_only_once_the_turn_is_stored(served: Served, server: _Server) -> None:
    """A replica dying between sending replies and storing the turn must not
    leave the customer with replies to a message the conversation lacks."""
    server.storing.clear()
    client, session_id, messages = await _client(served.url)
    acked = asyncio.Event()
    try:
        await client.emit("user_uttered", {"message": "two replies", "session_id": session_id}, callback=lambda *_: acked.set())
        await _until(lambda: len(served.received) == 1)
        await asyncio.sleep(0.3)
        assert messages == [] and not acked.is_set()  # handled, not yet stored
        server.storing.set()
        await _until(lambda: len(messages) == 3)
        assert messages == [
            {"text": "first"},
            {"text": "second", "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]},
            {"card": 1},
        ]
        await asyncio.wait_for(acked.wait(), 5)  # the web chat's "sent" comes after the replies
    finally:
        await _close(client)


@pytest.mark.parametrize(("language", "expected"), [("tr", "tekrar gönderin"), ("en", "send it again"), (None, "tekrar gönderin.\nWe could not")])
def test_a_message_that_cannot_be_stored_gets_a_notice_not_half_a_turn(
    served: Served, server: _Server, language: Any, expected: str
) -> None:
    server.run(_test_a_message_that_cannot_be_stored(served, server, language, expected))


async def _test_a_message_that_cannot_be_stored(served: Served, server: _Server, language: Any, expected: str) -> None:
    server.storing.set()
    client, session_id, messages = await _client(served.url)
    try:
        await client.emit("user_uttered", {"message": "store fails", "session_id": session_id, "customData": {"language": language}})
        await _until(lambda: len(messages) == 1)
        await asyncio.sleep(0.3)
        assert len(messages) == 1 and expected in messages[0]["text"] and messages[0]["metadata"] == {"kind": "notice"}
        assert "Traceback" not in messages[0]["text"]
    finally:
        await _close(client)


def test_the_replies_to_a_message_are_found_by_its_id() -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    from bot.channels import message_id_of, replies_to

    events = [
        UserUttered("merhaba", metadata={"message_id": "first-1"}),
        ActionExecuted("utter_greet"),
        BotUttered("Merhaba!"),
        SlotSet("language", "tr"),
        BotUttered("Doğum tarihiniz?", data={"buttons": []}),
        UserUttered("17.08.1985", metadata={"message_id": "second-2"}),
        UserUttered("hayır", metadata={}),  # paused, or no id: no replies in between
        BotUttered("Kullanıcı adınız?"),
    ]
    assert [b.text for b in replies_to(events, "first-1")] == ["Merhaba!", "Doğum tarihiniz?"]
    assert replies_to(events, "second-2") == []  # held, and answered by nothing (handed off)
    assert replies_to(events, "never-sent") is None
    assert message_id_of({"message_id": "abc-123_X"}) == "abc-123_X"
    assert [message_id_of({"message_id": v}) for v in ("abc", "a b c d e f", 12345678, "x" * 65, None)] == [None] * 5


def test_rest_answers_once_the_turn_is_stored_and_a_failed_turn_with_a_notice(served: Served, server: _Server) -> None:
    server.run(_test_rest_turns(served, server))


async def _test_rest_turns(served: Served, server: _Server) -> None:
    import aiohttp

    server.storing.set()
    url = f"{served.url}/webhooks/rest/webhook"
    async with aiohttp.ClientSession() as http:
        body = {"sender": "rest-1", "message": "two replies", "metadata": {"language": "en", "message_id": "rest-msg-1"}}
        async with http.post(url, json=body) as res:
            assert res.status == 200
            replies = await res.json()
        assert [r.get("text") for r in replies] == ["first", "second", None]
        assert replies[1]["buttons"] == [{"title": "Yes", "payload": "/affirm"}] and replies[2]["custom"] == {"data": {"card": 1}}
        message = served.received[-1]
        assert (message.input_channel, message.metadata) == ("rest", {"language": "en", "message_id": "rest-msg-1"})

        async with http.post(url, json={"sender": "rest-1", "message": "store fails", "metadata": {"language": "tr"}}) as res:
            assert res.status == 503
            failed = await res.json()
        assert failed == [{"recipient_id": "rest-1", "text": NOT_HANDLED["tr"], "metadata": {"kind": "notice"}}]

        # malformed requests: a clear 400, nothing handled
        count = len(served.received)
        for data, kind in (("not json", "text/plain"), ("[1, 2]", "application/json"), ('{"message": "hi"}', "application/json"),
                           ('{"sender": "", "message": "hi"}', "application/json")):
            async with http.post(url, data=data, headers={"Content-Type": kind}) as res:
                assert res.status == 400 and "sender" in (await res.json())["error"]
        async with http.post(url, json={"sender": "rest-1", "message": "/"}) as res:
            assert res.status == 200 and await res.json() == []
        assert len(served.received) == count
