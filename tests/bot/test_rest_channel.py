"""bot/channels/rest_input.py (with the turn protocol of
bot/channels/turn.py) served by a real Sanic app (tests/bot/channel_server.py)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import yaml
from channel_server import ChannelServer

from support_rules.conversations import (
    CONVERSATION_ID_HEADER,
    CONVERSATION_SECRET_HEADER,
    conversation_secret,
    is_conversation_id,
)


def _rest(served: ChannelServer) -> str:
    return f"{served.url}/webhooks/rest/webhook"


def _notices(served: ChannelServer) -> dict[str, dict[str, str]]:
    return yaml.safe_load(served.channel.settings.channel_notices_path.read_text(encoding="utf-8"))["notices"]


async def _post(
    http: aiohttp.ClientSession, url: str, body: Any, secret: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    headers = {CONVERSATION_SECRET_HEADER: secret} if secret is not None else {}
    async with http.post(url, json=body, headers=headers) as res:
        return res.status, await res.json(), dict(res.headers)


async def _start(http: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    """A new conversation: its id and secret, from the first answer's headers
    (a message with no text: no turn, the empty-message notice, 400)."""
    status, _, headers = await _post(http, url, {"message": "/"})
    assert status == 400
    return headers[CONVERSATION_ID_HEADER], headers[CONVERSATION_SECRET_HEADER]


def test_a_first_message_without_a_sender_gets_a_new_conversation_and_its_secret(served: ChannelServer) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            status, _, headers = await _post(http, _rest(served), {"message": "/restart"})
        assert status == 200
        conversation_id, secret = headers[CONVERSATION_ID_HEADER], headers[CONVERSATION_SECRET_HEADER]
        assert is_conversation_id(conversation_id)
        assert secret == conversation_secret(served.channel.settings.conversation_secret_key, conversation_id)
        # slash commands are stripped on this channel too
        assert [(m.text, m.sender_id, m.input_channel) for m in served.received] == [
            ("restart", conversation_id, "rest")
        ]

    served.run(scenario())


@pytest.mark.parametrize("language", ["tr", "en", None])
def test_naming_another_conversation_without_its_secret_answers_403_and_writes_nothing(
    served: ChannelServer, language: str | None
) -> None:
    notice = _notices(served)["conversation_refused"]
    text = notice[language] if language else f"{notice['tr']}\n{notice['en']}"

    async def scenario() -> None:
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            victim, secret = await _start(http, url)
            wrong = (None, "", "0" * 64, secret.upper(), conversation_secret("another key", victim))
            for attempt in wrong:
                body = {"sender": victim, "message": "I am the customer", "metadata": {"language": language}}
                status, answer, headers = await _post(http, url, body, attempt)
                assert status == 403
                assert answer == [{"recipient_id": victim, "text": text, "metadata": {"kind": "notice"}}]
                assert CONVERSATION_SECRET_HEADER not in headers
            # a sender the channel never issued cannot be used at all
            status, _, _ = await _post(http, url, {"sender": "me", "message": "hi"})
            assert status == 403
            assert served.received == []
            # the holder of the secret writes into it
            status, _, headers = await _post(http, url, {"sender": victim, "message": "still me"}, secret)
            assert (status, headers[CONVERSATION_ID_HEADER]) == (200, victim)
            assert [(m.text, m.sender_id) for m in served.received] == [("still me", victim)]

    served.run(scenario())


def test_rest_answers_once_the_turn_is_stored_and_a_failed_turn_with_a_notice(served: ChannelServer) -> None:
    notice = _notices(served)["not_handled"]

    async def scenario() -> None:
        served.storing.set()
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            sender, secret = await _start(http, url)
            metadata = {"language": "en", "message_id": "rest-msg-1"}
            body = {"sender": sender, "message": "two replies", "metadata": metadata}
            status, replies, _ = await _post(http, url, body, secret)
            assert status == 200
            assert [r.get("text") for r in replies] == ["first", "second", None]
            assert replies[1]["buttons"] == [{"title": "Yes", "payload": "/affirm"}]
            assert replies[2]["custom"] == {"data": {"card": 1}}
            message = served.received[-1]
            assert (message.input_channel, message.metadata) == ("rest", {"language": "en", "message_id": "rest-msg-1"})

            body = {"sender": sender, "message": "store fails", "metadata": {"language": "tr"}}
            status, failed, _ = await _post(http, url, body, secret)
            assert status == 503
            assert failed == [{"recipient_id": sender, "text": notice["tr"], "metadata": {"kind": "notice"}}]
            status, failed, _ = await _post(http, url, {"sender": sender, "message": "store fails"}, secret)
            assert status == 503 and failed[0]["text"] == f"{notice['tr']}\n{notice['en']}"

    served.run(scenario())


def test_oversized_metadata_is_not_kept_and_the_message_is_handled_with_a_notice(served: ChannelServer) -> None:
    notice = _notices(served)["metadata_too_large"]["en"]

    async def scenario() -> None:
        served.storing.set()
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            sender, secret = await _start(http, url)
            small = {"language": "en", "message_id": "rest-big-1"}
            metadata = {**small, "customer_token": "a.b.c", "junk": "x" * 100_000}
            body = {"sender": sender, "message": "two replies", "metadata": metadata}
            status, replies, _ = await _post(http, url, body, secret)
            assert status == 200
            assert replies[0] == {"recipient_id": sender, "text": notice, "metadata": {"kind": "notice"}}
            assert [r.get("text") for r in replies[1:]] == ["first", "second", None]
            assert served.received[-1].metadata == small  # the message itself was handled
            # keys nobody reads are dropped without a word when the rest is small
            body = {"sender": sender, "message": "hi", "metadata": {**small, "is_external": True, "x": 1}}
            status, replies, _ = await _post(http, url, body, secret)
            assert (status, replies) == (200, []) and served.received[-1].metadata == small

    served.run(scenario())


def test_a_malformed_body_answers_400_and_nothing_is_handled(served: ChannelServer) -> None:
    async def scenario() -> None:
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            malformed = (
                ("not json", "text/plain"),
                ("[1, 2]", "application/json"),
                ('{"sender": "", "message": "hi"}', "application/json"),
                ('{"sender": 42, "message": "hi"}', "application/json"),
                ('{"sender": "' + "s" * 257 + '", "message": "hi"}', "application/json"),
            )
            for data, kind in malformed:
                async with http.post(url, data=data, headers={"Content-Type": kind}) as res:
                    assert res.status == 400 and "sender" in (await res.json())["error"]
            sender, secret = await _start(http, url)
            status, replies, _ = await _post(http, url, {"sender": sender, "message": "/"}, secret)
            assert status == 400 and replies[0]["metadata"] == {"kind": "notice"}  # no text: a notice
        assert served.received == []

    served.run(scenario())


def test_a_message_sent_again_is_answered_from_the_conversation(served: ChannelServer) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            sender, secret = await _start(http, _rest(served))
            await served.store(sender, "rest-msg-9", ["Your ticket is T-000042."])
            metadata = {"message_id": "rest-msg-9", "resend": True}
            body = {"sender": sender, "message": "help", "metadata": metadata}
            status, replies, _ = await _post(http, _rest(served), body, secret)
        assert status == 200 and [r["text"] for r in replies] == ["Your ticket is T-000042."]
        assert served.received == []  # answered from the conversation, not handled again

    served.run(scenario())


def test_a_message_with_no_text_is_answered_with_a_notice(served: ChannelServer) -> None:
    """Found by the generated messages: an empty or blank message, or a bare
    "/", got no answer at all."""
    notices_file = served.channel.settings.channel_notices_path
    notice = yaml.safe_load(notices_file.read_text(encoding="utf-8"))["notices"]["empty_message"]

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            sender, secret = await _start(http, _rest(served))
            for text, language in (("", "tr"), ("  \u2003\n", "en"), ("/", None), ("///", "tr")):
                metadata = {"language": language} if language else {}
                body = {"sender": sender, "message": text, "metadata": metadata}
                status, replies, _ = await _post(http, _rest(served), body, secret)
                expected = notice[language] if language else f"{notice['tr']}\n{notice['en']}"
                assert status == 400
                assert replies == [{"recipient_id": sender, "text": expected, "metadata": {"kind": "notice"}}]
        assert served.received == []  # nothing reached the bot

    served.run(scenario())
