"""bot/channels/rest_input.py (with the turn protocol of
bot/channels/turn.py) served by a real Sanic app (tests/bot/channel_server.py)."""

from __future__ import annotations

from typing import Any

import aiohttp
import yaml
from channel_server import ChannelServer


def _rest(served: ChannelServer) -> str:
    return f"{served.url}/webhooks/rest/webhook"


async def _post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as res:
        return res.status, await res.json()


def test_the_rest_channel_strips_slash_commands_too(served: ChannelServer) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            status, _ = await _post(http, _rest(served), {"sender": "s1", "message": "/restart"})
        assert status == 200
        assert [(m.text, m.sender_id, m.input_channel) for m in served.received] == [("restart", "s1", "rest")]

    served.run(scenario())


def test_rest_answers_once_the_turn_is_stored_and_a_failed_turn_with_a_notice(served: ChannelServer) -> None:
    notices_file = served.channel.settings.channel_notices_path
    notice = yaml.safe_load(notices_file.read_text(encoding="utf-8"))["notices"]["not_handled"]

    async def scenario() -> None:
        served.storing.set()
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            metadata = {"language": "en", "message_id": "rest-msg-1"}
            body = {"sender": "rest-1", "message": "two replies", "metadata": metadata}
            status, replies = await _post(http, url, body)
            assert status == 200
            assert [r.get("text") for r in replies] == ["first", "second", None]
            assert replies[1]["buttons"] == [{"title": "Yes", "payload": "/affirm"}]
            assert replies[2]["custom"] == {"data": {"card": 1}}
            message = served.received[-1]
            assert (message.input_channel, message.metadata) == ("rest", {"language": "en", "message_id": "rest-msg-1"})

            body = {"sender": "rest-1", "message": "store fails", "metadata": {"language": "tr"}}
            status, failed = await _post(http, url, body)
            assert status == 503
            assert failed == [{"recipient_id": "rest-1", "text": notice["tr"], "metadata": {"kind": "notice"}}]
            status, failed = await _post(http, url, {"sender": "rest-1", "message": "store fails"})
            assert status == 503 and failed[0]["text"] == f"{notice['tr']}\n{notice['en']}"

    served.run(scenario())


def test_a_malformed_body_answers_400_and_nothing_is_handled(served: ChannelServer) -> None:
    async def scenario() -> None:
        url = _rest(served)
        async with aiohttp.ClientSession() as http:
            malformed = (
                ("not json", "text/plain"),
                ("[1, 2]", "application/json"),
                ('{"message": "hi"}', "application/json"),
                ('{"sender": "", "message": "hi"}', "application/json"),
                ('{"sender": "' + "s" * 257 + '", "message": "hi"}', "application/json"),
            )
            for data, kind in malformed:
                async with http.post(url, data=data, headers={"Content-Type": kind}) as res:
                    assert res.status == 400 and "sender" in (await res.json())["error"]
            status, replies = await _post(http, url, {"sender": "rest-1", "message": "/"})
            assert status == 400 and replies[0]["metadata"] == {"kind": "notice"}  # no text: a notice
        assert served.received == []

    served.run(scenario())


def test_a_message_sent_again_is_answered_from_the_conversation(served: ChannelServer) -> None:
    async def scenario() -> None:
        await served.store("rest-resend", "rest-msg-9", ["Your ticket is T-000042."])
        async with aiohttp.ClientSession() as http:
            metadata = {"message_id": "rest-msg-9", "resend": True}
            body = {"sender": "rest-resend", "message": "help", "metadata": metadata}
            status, replies = await _post(http, _rest(served), body)
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
            for text, language in (("", "tr"), ("  \u2003\n", "en"), ("/", None), ("///", "tr")):
                metadata = {"language": language} if language else {}
                body = {"sender": "rest-empty", "message": text, "metadata": metadata}
                status, replies = await _post(http, _rest(served), body)
                expected = notice[language] if language else f"{notice['tr']}\n{notice['en']}"
                assert status == 400
                assert replies == [{"recipient_id": "rest-empty", "text": expected, "metadata": {"kind": "notice"}}]
        assert served.received == []  # nothing reached the bot

    served.run(scenario())
