"""bot/channels/socketio_input.py (with the turn protocol of
bot/channels/turn.py) served by a real Sanic app, with a real socket.io
client (tests/bot/channel_server.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
import yaml
from channel_server import REDIS_URL, ChannelServer, close, open_socket, socket_client, until

from bot.channels.socketio_input import TriageSocketIOInput
from bot.settings import ROOT, Settings
from support_rules.conversations import conversation_secret, is_conversation_id


def test_the_environment_overrides_the_credentials() -> None:
    credentials = {"redis_url": "redis://from-credentials", "cors_allowed_origins": "http://a.example"}
    settings = Settings.from_env(
        {
            "SOCKETIO_REDIS_URL": "redis://from-env",
            "SOCKETIO_REDIS_CHANNEL": "ch",
            "WEBCHAT_ORIGINS": "http://b.example, http://c.example",
        }
    )
    channel = TriageSocketIOInput.from_credentials(credentials, settings=settings)
    assert (channel.redis_url, channel.redis_channel) == ("redis://from-env", "ch")
    assert channel.allowed_origins == ["http://b.example", "http://c.example"]
    unset = TriageSocketIOInput.from_credentials(credentials, settings=Settings.from_env({}))
    assert (unset.redis_url, unset.redis_channel) == ("redis://from-credentials", "rasa-socketio")
    assert unset.allowed_origins == ["http://a.example"]


def test_credentials_name_these_channels() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert set(credentials) == {
        "bot.channels.rest_input.TriageRestInput",
        "bot.channels.socketio_input.TriageSocketIOInput",
    }
    from rasa.shared.utils.common import class_from_module_path

    assert all(class_from_module_path(path).name() in {"rest", "socketio"} for path in credentials)


def test_a_customer_joins_the_room_of_their_session_and_gets_pushes(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, session_id, _, messages = await socket_client(served.url)
        try:
            output = served.channel.get_output_channel()
            assert output is not None
            reply = {"text": "Merhaba, ben Ayşe.", "sender": "agent", "agent_name": "Ayşe", "utter_action": "x"}
            await output.send_response(session_id, reply)
            await output.send_response(session_id, {"text": "Ayşe sohbete katıldı.", "kind": "notice"})
            await until(lambda: len(messages) == 2)
            assert messages[0] == {"text": "Merhaba, ben Ayşe.", "metadata": {"sender": "agent", "agent_name": "Ayşe"}}
            assert messages[1] == {"text": "Ayşe sohbete katıldı.", "metadata": {"kind": "notice"}}
        finally:
            await close(client)

    served.run(scenario())


def test_a_reconnecting_customer_keeps_their_session(served: ChannelServer) -> None:
    async def scenario() -> None:
        first, session_id, secret, _ = await socket_client(served.url)
        await close(first)
        second, again, secret_again, messages = await socket_client(served.url, (session_id, secret))
        try:
            assert (again, secret_again) == (session_id, secret)
            output = served.channel.get_output_channel()
            assert output is not None
            await output.send_response(session_id, {"text": "still here"})
            await until(lambda: messages == [{"text": "still here"}])
        finally:
            await close(second)

    served.run(scenario())


def test_slash_commands_and_foreign_sessions_never_reach_the_bot(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, session_id, secret, _ = await socket_client(served.url)
        try:
            token = {"customer_token": "t"}
            mine = {"session_id": session_id, "session_secret": secret}
            await client.emit("user_uttered", {"message": "/restart", **mine, "customData": token})
            await client.emit("user_uttered", {"message": "hello", "session_id": "someone-elses-session-id"})
            await client.emit("user_uttered", "not a dict")
            await client.emit("user_uttered", {"message": "/", **mine})
            bad_json = {"message": "merhaba", **mine, "customData": "{bad json"}
            await client.emit("user_uttered", bad_json)
            await until(lambda: len(served.received) == 2)
            await asyncio.sleep(0.2)
            assert [(m.text, m.sender_id, m.metadata) for m in served.received] == [
                ("restart", session_id, {"customer_token": "t"}),
                ("merhaba", session_id, {}),
            ]
            assert served.received[0].input_channel == "socketio"
        finally:
            await close(client)

    served.run(scenario())


def test_a_new_session_is_picked_by_the_server_with_its_secret(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, session_id, secret, _ = await socket_client(served.url)
        try:
            assert is_conversation_id(session_id) and len(session_id) == 32
            assert secret == conversation_secret(served.channel.settings.conversation_secret_key, session_id)
        finally:
            await close(client)

    served.run(scenario())


@pytest.mark.parametrize("language", ["en", "tr"])
def test_naming_another_conversation_without_its_secret_neither_reads_nor_writes_it(
    served: ChannelServer, language: str
) -> None:
    """Knowing a conversation's id is not enough: without the secret its
    browser was given, a client is refused (in its language), never joins
    the room (no agent reply reaches it) and cannot write into it."""
    notices = yaml.safe_load(served.channel.settings.channel_notices_path.read_text(encoding="utf-8"))["notices"]
    refused = {"text": notices["conversation_refused"][language], "metadata": {"kind": "notice"}}

    async def scenario() -> None:
        victim, session_id, secret, victim_got = await socket_client(served.url)
        attackers = []
        try:
            for wrong in (None, "", "0" * 64, secret.upper(), conversation_secret("another key", session_id), 42):
                request = {"session_id": session_id, "session_secret": wrong, "language": language}
                attacker, answer, attacker_got = await open_socket(served.url, request)
                attackers.append(attacker)
                assert answer == {"refused": refused}
                attempt = {"message": "I am the customer", "session_id": session_id, "session_secret": wrong}
                await attacker.emit("user_uttered", attempt)
                await attacker.emit("user_uttered", {**attempt, "session_secret": secret})  # not joined: dropped too
            # a client in a conversation of its own cannot write into another
            own, own_id, _, own_got = await socket_client(served.url)
            attackers.append(own)
            own_refused: list[Any] = []
            own.on("session_refused", own_refused.append)
            await own.emit("user_uttered", {"message": "me too", "session_id": session_id, "session_secret": secret})
            # nor speak for its own without the secret
            no_secret = {"message": "no secret", "session_id": own_id, "customData": {"language": "tr"}}
            await own.emit("user_uttered", no_secret)
            await until(lambda: len(own_refused) == 1)
            assert own_refused == [{"text": notices["conversation_refused"]["tr"], "metadata": {"kind": "notice"}}]

            output = served.channel.get_output_channel()
            assert output is not None
            await output.send_response(session_id, {"text": "Agent: your IBAN is ...", "sender": "agent"})
            await until(lambda: len(victim_got) == 1)
            await asyncio.sleep(0.3)
            assert victim_got == [{"text": "Agent: your IBAN is ...", "metadata": {"sender": "agent"}}]
            assert attacker_got == [] and own_got == [] and served.received == []

            # the holder of the secret writes into it
            mine = {"message": "still me", "session_id": session_id, "session_secret": secret}
            await victim.emit("user_uttered", mine)
            await until(lambda: len(served.received) == 1)
            assert (served.received[0].text, served.received[0].sender_id) == ("still me", session_id)
            assert secret not in str(served.received[0].metadata)  # never stored with the conversation
        finally:
            for client in (victim, *attackers):
                await close(client)

    served.run(scenario())


def test_a_new_conversation_on_the_same_socket_leaves_the_old_room(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, first_id, _, messages = await socket_client(served.url)
        try:
            await client.emit("session_request", {"session_id": None})
            await asyncio.sleep(0.3)
            output = served.channel.get_output_channel()
            assert output is not None
            await output.send_response(first_id, {"text": "for the old conversation"})
            await asyncio.sleep(0.3)
            assert messages == []
        finally:
            await close(client)

    served.run(scenario())


def test_with_redis_a_push_from_another_replica_reaches_the_socket(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, session_id, _, messages = await socket_client(served.url, path="/socket-redis")
        try:
            # another Rasa replica's emit travels through Redis to the replica holding the socket
            other_replica = socketio.AsyncRedisManager(REDIS_URL, channel=served.redis_channel_name, write_only=True)
            await other_replica.emit("bot_uttered", {"text": "from the other replica"}, room=session_id)
            await until(lambda: messages == [{"text": "from the other replica"}])
            await other_replica.emit("bot_uttered", {"text": "not for you"}, room="some-other-session")
            await asyncio.sleep(0.3)
            assert messages == [{"text": "from the other replica"}]
        finally:
            await close(client)

    served.run(scenario())


def test_a_page_from_another_origin_cannot_open_a_socket(served: ChannelServer) -> None:
    async def scenario() -> None:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await socket_client(served.url, path="/socket-redis", origin="http://evil.example")

    served.run(scenario())


def test_replies_show_only_once_the_turn_is_stored(served: ChannelServer) -> None:
    """A replica dying between sending replies and storing the turn must not
    leave the customer with replies to a message the conversation lacks."""

    async def scenario() -> None:
        served.storing.clear()
        client, session_id, secret, messages = await socket_client(served.url)
        acked = asyncio.Event()
        try:
            message = {"message": "two replies", "session_id": session_id, "session_secret": secret}
            await client.emit("user_uttered", message, callback=lambda *_: acked.set())
            await until(lambda: len(served.received) == 1)
            await asyncio.sleep(0.3)
            assert messages == [] and not acked.is_set()  # handled, not yet stored
            served.storing.set()
            await until(lambda: len(messages) == 3)
            assert messages == [
                {"text": "first"},
                {"text": "second", "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]},
                {"card": 1},
            ]
            await asyncio.wait_for(acked.wait(), 5)  # the web chat's "sent" comes after the replies
        finally:
            await close(client)

    served.run(scenario())


@pytest.mark.parametrize(
    ("language", "expected"),
    [("tr", "tekrar gönderin"), ("en", "send it again"), (None, "tekrar gönderin.\nWe could not")],
)
def test_a_message_that_cannot_be_stored_gets_a_notice_not_half_a_turn(
    served: ChannelServer, language: Any, expected: str
) -> None:
    async def scenario() -> None:
        served.storing.set()
        client, session_id, secret, messages = await socket_client(served.url)
        try:
            meta = {"language": language}
            message = {"message": "store fails", "session_id": session_id, "session_secret": secret, "customData": meta}
            await client.emit("user_uttered", message)
            await until(lambda: len(messages) == 1)
            await asyncio.sleep(0.3)
            assert len(messages) == 1 and expected in messages[0]["text"]
            assert messages[0]["metadata"] == {"kind": "notice"}
            assert "Traceback" not in messages[0]["text"]
        finally:
            await close(client)

    served.run(scenario())


def test_a_message_sent_again_is_answered_from_the_conversation(served: ChannelServer) -> None:
    async def scenario() -> None:
        client, session_id, secret, messages = await socket_client(served.url)
        try:
            await served.store(session_id, "sock-msg-1", ["Talep numaranız T-000042.", "Başka bir sorunuz var mı?"])
            again = {"message_id": "sock-msg-1", "resend": True}
            resend = {"message": "my problem", "session_id": session_id, "session_secret": secret, "customData": again}
            await client.emit("user_uttered", resend)
            await until(lambda: len(messages) == 2)
            assert [m["text"] for m in messages] == ["Talep numaranız T-000042.", "Başka bir sorunuz var mı?"]
            # a resend the conversation does not hold is handled as a new message
            await client.emit("user_uttered", {**resend, "customData": {"message_id": "sock-msg-2", "resend": True}})
            await until(lambda: len(served.received) == 1)
            assert served.received[0].metadata == {"message_id": "sock-msg-2", "resend": True}
            await asyncio.sleep(0.2)
            assert len(messages) == 2
        finally:
            await close(client)

    served.run(scenario())


def test_a_message_with_no_text_gets_a_notice_in_the_customers_language(served: ChannelServer) -> None:
    """Found by the generated messages: the web chat's socket stayed silent."""
    notices_file = served.channel.settings.channel_notices_path
    notice = yaml.safe_load(notices_file.read_text(encoding="utf-8"))["notices"]["empty_message"]

    async def scenario() -> None:
        client, session_id, secret, messages = await socket_client(served.url)
        try:
            for text in ("   ", "/"):
                mine = {"session_id": session_id, "session_secret": secret}
                data = {"message": text, **mine, "customData": {"language": "en"}}
                await client.emit("user_uttered", data)
            await until(lambda: len(messages) == 2)
            assert messages == [{"text": notice["en"], "metadata": {"kind": "notice"}}] * 2
            assert served.received == []
        finally:
            await close(client)

    served.run(scenario())


def test_the_pre_chat_form_reaches_the_bot_cleaned(served: ChannelServer) -> None:
    """What the web chat's form sends with the first message arrives as
    strings of bounded length with secrets masked; other keys and kinds do not."""

    async def scenario() -> None:
        client, session_id, secret, _ = await socket_client(served.url)
        try:
            mine = {"session_id": session_id, "session_secret": secret}
            form = {
                "name": " Ayşe  <b>Y</b> ",
                "topic": "withdrawal",
                "username": {"nested": "ayse_k"},
                "email": "4111 1111 1111 1111@example.com",
                "is_admin": True,
            }
            await client.emit("user_uttered", {"message": "merhaba", **mine, "customData": {"prechat": form}})
            await until(lambda: len(served.received) == 1)
            kept = served.received[0].metadata["prechat"]
            assert set(kept) == {"name", "topic", "email"}
            assert kept["name"] == "Ayşe <b>Y</b>" and kept["topic"] == "withdrawal"  # judged by the actions
            assert "4111 1111 1111 1111" not in kept["email"]
        finally:
            await close(client)

    served.run(scenario())
