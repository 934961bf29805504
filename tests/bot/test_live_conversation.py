"""The assistant as it runs: Rasa server, action server and the real handoff
service as separate processes (stack/live.py), customers talking over
Rasa's REST channel and agents over the handoff service's API.

Proves, in Turkish and English, the path from a first message through the
age check, an FAQ answer that does not help and the triage questions to a
ticket in the agents' queue; that the bot is silent once the conversation
is handed off; that a ticket's status can be asked; that the birth date
never reaches the tracker store; the relay both ways (customer messages to
the agent through the event broker, agent replies and notices to the
customer through Rasa's HTTP API) and the hand-back; and the faults: the
handoff service or Rasa restarted in the middle of a conversation.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stack.live import LiveStack, ticket_number_in, wait_for


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[LiveStack]:
    running = LiveStack(tmp_path_factory.mktemp("live"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _ticket_number(replies: list[str]) -> str:
    return ticket_number_in(replies)


def test_turkish_customer_to_the_queue(assistant: LiveStack) -> None:
    sender = "live-tr"
    first = " ".join(assistant.say(sender, "merhaba, dün yaptığım para çekme hala hesabıma gelmedi"))
    assert first.startswith("Merhaba!") and "Doğum tarihiniz" in first  # greeted, then the age question
    answer = " ".join(assistant.say(sender, "17.08.1985"))
    assert "çözdü mü" in answer  # the FAQ answer came, then "did that solve it?"
    assert "kullanıcı adınız" in " ".join(assistant.say(sender, "hayır"))  # topic, type and date already known
    yesterday = datetime.now(ZoneInfo("Europe/Istanbul")).date() - timedelta(days=1)
    summary = " ".join(assistant.say(sender, "ayse_k"))
    assert "Para çekme" in summary and yesterday.strftime("%d.%m.%Y") in summary
    corrected = " ".join(assistant.say(sender, "hayır tarih yanlış, 12'siydi"))
    assert "Tarih: 12." in corrected
    replies = assistant.say(sender, "evet")
    number = _ticket_number(replies)
    status = assistant.ticket_status(number, sender)
    assert status["status"] == "queued" and status["department"] == "finance"
    assert assistant.say(sender, "merhaba? orada mısınız") == []  # handed off: the bot is silent
    with sqlite3.connect(assistant.tracker_db) as conn:
        stored = " ".join(row[0] for row in conn.execute("SELECT data FROM events"))
    with sqlite3.connect(assistant.events_db) as conn:  # what the event broker carried
        published = " ".join(row[0] for row in conn.execute("SELECT data FROM events"))
    assert "17.08.1985" not in stored and "17.08.1985" not in published
    assert "ayse_k" in published
    assert "ayse_k" in stored


def test_english_customer_to_the_queue_and_a_status_question(assistant: LiveStack) -> None:
    sender = "live-en"
    assert "date of birth" in " ".join(assistant.say(sender, "hello"))
    assert "How can I help" in " ".join(assistant.say(sender, "May 4, 1990"))
    assert "What is your problem about" in " ".join(assistant.say(sender, "I want to talk to a human agent"))
    # "withdrawl" answers the topic and names the transaction type too
    assert "When did" in " ".join(assistant.say(sender, "withdrawl"))
    assert "username" in " ".join(assistant.say(sender, "last friday"))
    assert "Is this correct" in " ".join(assistant.say(sender, "john_doe99"))
    number = _ticket_number(assistant.say(sender, "yes"))
    other = "live-en-2"
    assistant.say(other, "hi")
    assistant.say(other, "1990-05-04")
    assert number in " ".join(assistant.say(other, f"what is the status of my ticket {number}"))


def test_turkish_pre_chat_form_greets_by_name_asks_the_age_and_not_the_topic(assistant: LiveStack) -> None:
    """The web chat's pre-chat form over the real channel: the values ride on
    the first message; the age is still asked; topic and username are not."""
    sender = "live-prechat-tr"
    form = {"name": "Ayşe", "topic": "withdrawal", "username": "ayse_k"}
    first = " ".join(assistant.say(sender, "merhaba", {"language": "tr", "prechat": form}))
    assert first.startswith("Merhaba Ayşe!") and "Doğum tarihiniz" in first
    after_age = " ".join(assistant.say(sender, "17.08.1985"))
    assert "Hangi işlemle ilgili" in after_age and "hangi konuyla" not in after_age  # the topic is known
    assert "hangi tarihte" in " ".join(assistant.say(sender, "para çekme"))
    summary = " ".join(assistant.say(sender, "dün"))  # the username is known too: straight to the summary
    assert "Para çekme" in summary and "ayse_k" in summary and "kullanıcı adınız" not in summary
    number = _ticket_number(assistant.say(sender, "evet"))
    ticket = assistant.as_agent("agent_finance", "GET", f"/tickets/{number}")
    assert ticket["summary"]["topic"]["id"] == "withdrawal"
    assert ticket["summary"]["username"] == "ayse_k" and ticket["summary"]["username_source"] == "typed"
    assert ticket["summary"]["age_check"]["method"] == "birth_date"  # the form answers no age question


def test_english_pre_chat_form_with_an_email_and_no_username(assistant: LiveStack) -> None:
    sender = "live-prechat-en"
    form = {"name": "Mark", "topic": "login", "email": "mark@example.com"}
    first = " ".join(assistant.say(sender, "hello", {"language": "en", "prechat": form}))
    assert first.startswith("Hello Mark!") and "date of birth" in first
    after_age = " ".join(assistant.say(sender, "May 4, 1990"))
    assert "Which kind of transaction" in after_age and "What is your problem about" not in after_age
    assert "username" in " ".join(assistant.say(sender, "no transaction"))  # none was given: asked
    assert "Is this correct" in " ".join(assistant.say(sender, "mark_77"))
    number = _ticket_number(assistant.say(sender, "yes"))
    ticket = assistant.as_agent("agent_technical", "GET", f"/tickets/{number}")
    assert ticket["summary"]["topic"]["id"] == "login"
    assert ticket["summary"]["contact_email"] == "mark@example.com"


def test_a_pre_chat_form_of_a_card_number_markup_and_an_unknown_topic_is_asked_again(assistant: LiveStack) -> None:
    sender = "live-prechat-bad"
    form = {"name": "4111 1111 1111 1111", "topic": "<b>nothing</b>", "username": "1x", "email": "mark@"}
    first = assistant.say(sender, "hello", {"language": "en", "prechat": form})
    assert first[0].startswith("Hello!")  # no name to greet by
    assert any("e-mail address you gave" in reply for reply in first)  # said once, not kept
    assert "How can I help" in " ".join(assistant.say(sender, "May 4, 1990"))  # no topic was chosen
    with sqlite3.connect(assistant.tracker_db) as conn:
        stored = " ".join(row[0] for row in conn.execute("SELECT data FROM events"))
    assert "4111 1111 1111 1111" not in stored


def test_under_18_gets_a_polite_refusal_and_no_ticket(assistant: LiveStack) -> None:
    sender = "live-minor"
    assistant.say(sender, "selam")
    refusal = " ".join(assistant.say(sender, "12.03.2012"))
    assert "18 yaşından büyükler" in refusal
    assert "18 yaşından büyükler" in " ".join(assistant.say(sender, "müşteri temsilcisi istiyorum"))


# the relay, the hand-back and the faults --------------------------------------


def _turkish_to_queue(assistant: LiveStack, sender: str) -> str:
    assistant.say(sender, "merhaba, dün yaptığım para çekme hala hesabıma gelmedi")
    assistant.say(sender, "17.08.1985")
    assistant.say(sender, "hayır")
    assistant.say(sender, "ayse_k")
    return _ticket_number(assistant.say(sender, "evet"))


def _english_to_queue(assistant: LiveStack, sender: str) -> str:
    for text in ("hello", "May 4, 1990", "I want to talk to a human agent", "withdrawl", "last friday", "john_doe99"):
        assistant.say(sender, text)
    return _ticket_number(assistant.say(sender, "yes"))


def _bot_event(assistant: LiveStack, sender: str, fragment: str) -> dict:
    return wait_for(lambda: next((e for e in assistant.bot_events(sender) if fragment in (e.get("text") or "")), None))


def test_an_agent_takes_over_relays_both_ways_and_hands_back(assistant: LiveStack) -> None:
    sender = "relay-tr"
    number = _turkish_to_queue(assistant, sender)
    claimed = assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
    assert claimed["status"] == "assigned"
    joined = _bot_event(assistant, sender, "sohbete katıldı")  # the notice, in the customer's language
    assert joined["metadata"]["kind"] == "notice"  # Rasa adds its model id next to ours

    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/reply", {"text": "Merhaba Ayşe, hemen bakıyorum."})
    reply = _bot_event(assistant, sender, "hemen bakıyorum")
    assert (reply["metadata"]["sender"], reply["metadata"]["agent_name"]) == ("agent", "Agent Finance")

    assert assistant.say(sender, "Teşekkürler, bekliyorum") == []  # the bot stays quiet
    assert assistant.say(sender, "/restart") == []  # no way out of the handoff by command
    assert assistant.tracker(sender)["paused"] is True
    wait_for(lambda: ("customer", "Teşekkürler, bekliyorum") in assistant.transcript("agent_finance", number))
    wait_for(lambda: ("customer", "restart") in assistant.transcript("agent_finance", number))
    agent_lines = [t for s, t in assistant.transcript("agent_finance", number) if s == "agent"]
    assert agent_lines == ["Merhaba Ayşe, hemen bakıyorum."]  # not added again from the broker

    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/hand-back")
    _bot_event(assistant, sender, "Tekrar merhaba")
    assert assistant.tracker(sender)["paused"] is False
    answer = " ".join(assistant.say(sender, "şifremi unuttum"))
    assert answer  # the bot answers again
    assert assistant.tracker(sender)["slots"]["topic"] is None  # the old request is forgotten


def test_a_resolve_tells_the_customer_and_gives_the_chat_back(assistant: LiveStack) -> None:
    sender = "resolve-en"
    number = _english_to_queue(assistant, sender)
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/resolve", {"note": "refund sent"})
    _bot_event(assistant, sender, "marked your request as resolved")
    assert assistant.tracker(sender)["paused"] is False


def test_a_waiting_customer_hears_when_they_move_up(assistant: LiveStack) -> None:
    first = _english_to_queue(assistant, "queue-first")
    second = _english_to_queue(assistant, "queue-second")
    before = assistant.ticket_status(second, "queue-second")["queue_position"]
    time.sleep(2.5)  # the notifier has seen both tickets
    assistant.as_agent("agent_finance", "POST", f"/tickets/{first}/claim")
    notice = _bot_event(assistant, "queue-second", "You have moved up the queue")
    assert notice["metadata"]["kind"] == "notice"
    assert f"number {before - 1}" in notice["text"]


def test_a_handoff_service_restart_loses_and_doubles_no_customer_message(assistant: LiveStack) -> None:
    sender = "restart-handoff"
    number = _english_to_queue(assistant, sender)
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
    assistant.stop_process("handoff")
    assert assistant.say(sender, "are you still there?") == []
    assert assistant.say(sender, "my card 4111 1111 1111 1111 was charged twice") == []
    assistant.start_process("handoff")
    expected = [("customer", "are you still there?"), ("customer", "my card **** **** **** 1111 was charged twice")]

    def caught_up() -> bool:
        lines = assistant.transcript("agent_finance", number)
        return all(line in lines for line in expected)

    wait_for(caught_up)
    assistant.stop_process("handoff")  # once more: the consumer's position was kept
    assistant.start_process("handoff")
    assert assistant.say(sender, "hello?") == []
    wait_for(lambda: ("customer", "hello?") in assistant.transcript("agent_finance", number))
    lines = assistant.transcript("agent_finance", number)
    assert [lines.count(line) for line in expected] == [1, 1]


def test_a_rasa_restart_in_the_middle_of_the_form_keeps_the_answers(assistant: LiveStack) -> None:
    sender = "restart-rasa"
    for text in ("hello", "May 4, 1990"):
        assistant.say(sender, text)
    assert "What is your problem about" in " ".join(assistant.say(sender, "I want to talk to a human agent"))
    assistant.stop_process("rasa", kill=True)
    assistant.start_process("rasa")
    assert "When did" in " ".join(assistant.say(sender, "withdrawl"))  # the form goes on where it was
    assert "username" in " ".join(assistant.say(sender, "last friday"))
    slots = assistant.tracker(sender)["slots"]
    assert slots["age_status"] == "over_18" and slots["transaction_type"] == "withdrawal"


def _age_conversation(assistant: LiveStack, sender: str, seconds: float) -> None:
    """Move a conversation's events back in time in the tracker store, as if
    the customer had been silent that long (Rasa reads the store each turn)."""
    with sqlite3.connect(assistant.tracker_db) as conn:
        conversation_id = assistant.conversation_id(sender)
        rows = conn.execute("SELECT id, timestamp, data FROM events WHERE sender_id = ?", (conversation_id,)).fetchall()
        for row_id, timestamp, data in rows:
            event = json.loads(data)
            event["timestamp"] = float(event["timestamp"]) - seconds
            conn.execute(
                "UPDATE events SET timestamp = ?, data = ? WHERE id = ?",
                (float(timestamp) - seconds, json.dumps(event), row_id),
            )


def test_a_new_session_keeps_a_waiting_customer_with_the_agent(assistant: LiveStack) -> None:
    sender = "expiry-en"
    number = _english_to_queue(assistant, sender)
    _age_conversation(assistant, sender, 2 * 3600)  # longer than session_expiration_time
    assert assistant.say(sender, "hello? anyone?") == []  # still silent: the agent owns it
    tracker = assistant.tracker(sender)
    kinds = [e["event"] for e in tracker["events"]]
    assert "session_started" in kinds[kinds.index("pause") + 1 :]  # a new session began after the handoff
    assert tracker["paused"] is True and tracker["slots"]["ticket_number"] == number
    wait_for(lambda: ("customer", "hello? anyone?") in assistant.transcript("agent_finance", number))


def test_a_web_chat_message_sent_again_is_answered_again_not_handled_twice(assistant: LiveStack) -> None:
    """The web chat sends again, with ``resend`` and the same ``message_id``,
    a message whose acknowledgement it lost with its socket. Rasa answers
    from the conversation when it holds the message, handles it when not."""
    import asyncio

    import socketio

    async def scenario() -> tuple[list[str], list[str], list[str], list[dict]]:
        client = socketio.AsyncClient(reconnection=False)
        received: list[str] = []
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        client.on("bot_uttered", lambda data: received.append(data.get("text") or ""))
        client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
        await client.connect(assistant.rasa_url, transports=["polling"], headers={"Origin": assistant.handoff_url})
        await client.emit("session_request", {"session_id": None})
        confirm = await asyncio.wait_for(confirmed, 10)
        session, secret = confirm["session_id"], confirm["session_secret"]

        async def send(text: str, message_id: str, resend: bool = False) -> list[str]:
            start = len(received)
            data = {"language": "en", "message_id": message_id, **({"resend": True} if resend else {})}
            acked: asyncio.Future = asyncio.get_running_loop().create_future()
            await client.emit(
                "user_uttered",
                {"message": text, "session_id": session, "session_secret": secret, "customData": data},
                callback=lambda *_: acked.done() or acked.set_result(True),
            )
            await asyncio.wait_for(acked, 60)  # acknowledged after the replies were sent
            return received[start:]

        try:
            first = await send("hello", "msg-hello-1")
            again = await send("hello", "msg-hello-1", resend=True)  # held by the conversation: answered from it
            unseen = await send("May 4, 1990", "msg-birth-2", resend=True)  # lost before Rasa had it: handled
            events = await asyncio.to_thread(lambda: assistant.tracker(session)["events"])
            return first, again, unseen, events
        finally:
            await client.disconnect()

    first, again, unseen, events = asyncio.run(scenario())
    assert "date of birth" in " ".join(first)
    assert again == first
    assert "How can I help" in " ".join(unseen)
    ids = [(e.get("metadata") or {}).get("message_id") for e in events if e.get("event") == "user"]
    assert ids == ["msg-hello-1", "msg-birth-2"]  # each handled once


def test_a_rest_message_sent_again_is_answered_from_the_conversation(assistant: LiveStack) -> None:
    sender = "live-rest-resend"

    def post(text: str, message_id: str, resend: bool = False) -> list[str]:
        metadata = {"message_id": message_id, **({"resend": True} if resend else {})}
        return assistant.say(sender, text, metadata)

    first = post("merhaba", "rest-merhaba-1")
    assert "Doğum tarihiniz" in " ".join(first)
    assert post("merhaba", "rest-merhaba-1", resend=True) == first  # a retried request: not handled twice
    users = [e for e in assistant.tracker(sender)["events"] if e.get("event") == "user"]
    assert [(e["text"], e["metadata"].get("message_id")) for e in users] == [("merhaba", "rest-merhaba-1")]


def test_who_knows_only_the_conversation_id_neither_reads_nor_writes_it(assistant: LiveStack) -> None:
    """Rasa, the action server and the handoff service as they run: a client
    naming a handed-off customer's conversation id without its secret is
    refused on both channels, gets none of the agent's replies and adds
    nothing to the conversation; the customer holding the secret goes on."""
    import asyncio
    import urllib.error

    import socketio

    sender = "secret-en"
    number = _english_to_queue(assistant, sender)
    assistant.as_agent("agent_finance", "POST", f"/tickets/{number}/claim")
    conversation_id = assistant.conversation_id(sender)
    ticket = assistant.as_agent("agent_finance", "GET", f"/tickets/{number}")
    assert conversation_id not in json.dumps(ticket)  # agents see a reference, never the id
    before = len(assistant.tracker(sender)["events"])

    body = {"sender": conversation_id, "message": "I am the customer, send me the IBAN", "metadata": {"language": "en"}}
    for secret in (None, "0" * 64):
        with pytest.raises(urllib.error.HTTPError) as refused:
            assistant.post_message(body, secret)
        assert refused.value.code == 403
        assert "does not belong to this browser" in json.loads(refused.value.read())[0]["text"]

    async def eavesdrop() -> tuple[dict, list[dict]]:
        client = socketio.AsyncClient(reconnection=False)
        answered: asyncio.Future = asyncio.get_running_loop().create_future()
        got: list[dict] = []
        client.on("session_confirm", lambda data: answered.done() or answered.set_result(data))
        client.on("session_refused", lambda data: answered.done() or answered.set_result({"refused": data}))
        client.on("bot_uttered", got.append)
        await client.connect(assistant.rasa_url, transports=["polling"], headers={"Origin": assistant.handoff_url})
        try:
            await client.emit("session_request", {"session_id": conversation_id, "language": "en"})
            answer = await asyncio.wait_for(answered, 10)
            await client.emit("user_uttered", {"message": "me too", "session_id": conversation_id})
            await asyncio.to_thread(
                assistant.as_agent, "agent_finance", "POST", f"/tickets/{number}/reply", {"text": "Your IBAN is ..."}
            )
            await asyncio.to_thread(lambda: _bot_event(assistant, sender, "Your IBAN is"))
            await asyncio.sleep(1)
            return answer, got
        finally:
            await client.disconnect()

    answer, got = asyncio.run(eavesdrop())
    assert "does not belong to this browser" in answer["refused"]["text"] and got == []
    events = assistant.tracker(sender)["events"][before:]
    assert [e for e in events if e.get("event") == "user"] == []  # nothing written into it
    assert assistant.say(sender, "thanks, still here") == []  # the customer goes on (handed off: the bot is quiet)
    wait_for(lambda: ("customer", "thanks, still here") in assistant.transcript("agent_finance", number))
