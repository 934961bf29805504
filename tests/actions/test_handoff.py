"""action_handoff against a real HTTP server that follows schemas/README.md: posted, kept in the outbox, or neither."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from action_services import CUSTOMER_SECRET, make_services
from trackers import handoff_tracker, responses_of, run, slots_of, user_event

from actions.core.customer_token import mint_customer_token
from actions.handoff import ActionHandoff
from support_rules.conversations import conversation_ref, new_conversation_id


def test_handoff_posts_the_summary_and_pauses(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    dispatcher, events = run(ActionHandoff(services), handoff_tracker())
    assert events[-1]["event"] == "pause"
    assert slots_of(events)["ticket_number"] == "T-000001"
    message = dispatcher.messages[0]
    assert message["response"] == "utter_handoff_created"
    assert (message["ticket_number"], message["queue_position"], message["wait_minutes"]) == ("T-000001", 2, 3)
    summary = handoff_service.received[0]
    assert summary["department"] == "finance" and summary["username"] == "ayse_k"
    assert "4111 1111 1111 1111" not in str(summary)
    assert "04.05.1990" not in str(summary)  # the age answer is masked in the transcript
    assert services.outbox.pending() == []


def test_handoff_with_the_service_down_is_kept_and_delivered_later(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    handoff_service.stop()
    dispatcher, events = run(ActionHandoff(services), handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_delayed"]
    assert events == [{"event": "pause", "timestamp": None}]
    later = time.time() + 60  # after the retry delay
    assert len(services.outbox.pending(now=later)) == 1

    from actions.outbox_worker import deliver_pending

    handoff_service.start()
    assert asyncio.run(deliver_pending(services.outbox, services.handoff_client, now=later)) == 1
    assert len(handoff_service.tickets) == 1


def test_handoff_rejected_is_kept_for_review(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    handoff_service.fail_with = 422
    dispatcher, _ = run(ActionHandoff(services), handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_delayed"]
    assert services.outbox.pending() == []  # refused: not retried on its own
    [letter] = services.outbox.dead_letters()
    assert letter.attempts == 1 and "422" in letter.error


# the outbox's database unreachable (nothing listens on port 1)
OUTBOX_DOWN = "postgresql://postgres@127.0.0.1:1/outbox"


def test_handoff_with_the_outbox_down_is_still_posted(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url, OUTBOX_URL=OUTBOX_DOWN)
    dispatcher, events = run(ActionHandoff(services), handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_created"]
    assert events[-1]["event"] == "pause" and len(handoff_service.tickets) == 1


def test_handoff_neither_posted_nor_kept_is_not_promised(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url, OUTBOX_URL=OUTBOX_DOWN)
    handoff_service.stop()
    dispatcher, events = run(ActionHandoff(services), handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_failed"]  # not "saved, will be passed on"
    assert events == []  # not paused: the customer can ask again


def _with_token_on_the_last_message(tracker, token: str | None):
    from trackers import make_tracker

    events = [e for e in tracker.events if e["event"] != "session_started"]
    last = events[-1]
    events[-1] = {**last, "metadata": {**last.get("metadata", {}), "customer_token": token}}
    return make_tracker(events, tracker.slots)


@pytest.mark.parametrize(
    ("signed_for", "source"),
    [("ayse_k", "verified_token"), ("mehmet_y", "typed"), (None, "typed")],
)
def test_the_summary_tells_a_token_verified_username_from_a_typed_one(
    tmp_path, handoff_service, signed_for, source
) -> None:
    services = make_services(tmp_path, handoff_service.url)
    token = mint_customer_token(signed_for, CUSTOMER_SECRET) if signed_for else None
    run(ActionHandoff(services), _with_token_on_the_last_message(handoff_tracker(username="ayse_k"), token))
    summary = handoff_service.received[0]
    assert (summary["username"], summary["username_source"]) == ("ayse_k", source)


def test_a_token_signed_with_another_secret_proves_no_username(tmp_path, handoff_service) -> None:
    services = make_services(tmp_path, handoff_service.url)
    forged = mint_customer_token("ayse_k", "not-the-configured-secret-but-long-enough")
    run(ActionHandoff(services), _with_token_on_the_last_message(handoff_tracker(username="ayse_k"), forged))
    assert handoff_service.received[0]["username_source"] == "typed"


def test_a_customer_line_claiming_is_external_stays_in_the_summary(tmp_path, handoff_service) -> None:
    """Customer metadata is not trusted to hide a message from the agents."""
    from trackers import make_tracker

    services = make_services(tmp_path, handoff_service.url)
    base = handoff_tracker()
    events = [e for e in base.events if e["event"] != "session_started"]
    hidden = user_event(
        "kartımdan 2 kez çekim yapılmış, acil", "report_problem", timestamp=1.5, metadata={"is_external": True}
    )
    run(ActionHandoff(services), make_tracker([events[0], hidden, *events[1:]], base.slots))
    summary = handoff_service.received[0]
    assert "kartımdan 2 kez çekim yapılmış, acil" in summary["description"]
    assert "kartımdan 2 kez çekim yapılmış, acil" in [line["text"] for line in summary["transcript"]]
    assert "report_problem" in [i["name"] for i in summary["intents"]]


def test_the_action_servers_logs_and_keys_show_a_reference_not_the_conversation_id(
    tmp_path, handoff_service, caplog
) -> None:
    """Whoever reads the action server's or the outbox worker's log learns
    which conversation, never its id."""
    from actions.outbox_worker import deliver_pending

    services = make_services(tmp_path, handoff_service.url)
    tracker = handoff_tracker()
    tracker.sender_id = new_conversation_id()  # as the channels issue them
    handoff_service.stop()
    with caplog.at_level(logging.DEBUG):
        run(ActionHandoff(services), tracker)
        (pending,) = services.outbox.pending(now=time.time() + 3600)  # past its retry delay
        handoff_service.start()
        handoff_service.fail_with = 503
        asyncio.run(deliver_pending(services.outbox, services.handoff_client, now=time.time() + 3600))
        handoff_service.fail_with = None
        assert asyncio.run(deliver_pending(services.outbox, services.handoff_client, now=time.time() + 7200)) == 1
    assert pending.idempotency_key.startswith(conversation_ref(tracker.sender_id) + ":")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert conversation_ref(tracker.sender_id) in logged
    assert tracker.sender_id not in logged


@pytest.mark.parametrize(
    ("language", "document"),
    [("tr", "pasaport veya ehliyetin"), ("en", "passport or driving licence")],
)
def test_a_verification_topic_asks_for_the_documents(tmp_path, handoff_service, language: str, document: str) -> None:
    """After the ticket, the documents of data/verification.yml in the
    customer's language, flagged so the web chat offers the upload."""
    services = make_services(tmp_path, handoff_service.url)
    tracker = handoff_tracker(topic="verification", transaction_type=None, transaction_date=None, language=language)
    dispatcher, events = run(ActionHandoff(services), tracker)
    assert responses_of(dispatcher) == ["utter_handoff_created", "utter_verification_documents"]
    request = dispatcher.messages[1]
    assert request["request_documents"] is True
    assert document in request["documents"] and request["documents"].count("; ") == 1
    assert handoff_service.received[0]["topic"]["id"] == "verification"
    assert events[-1]["event"] == "pause"


def test_other_topics_ask_for_no_documents(tmp_path, handoff_service) -> None:
    dispatcher, _ = run(ActionHandoff(make_services(tmp_path, handoff_service.url)), handoff_tracker())
    assert responses_of(dispatcher) == ["utter_handoff_created"]
    assert "request_documents" not in dispatcher.messages[0]


def test_a_second_chat_of_a_signed_in_customer_on_the_same_topic_joins_the_open_request(
    tmp_path, handoff_service
) -> None:
    """One request per problem: the service answers ``joined`` and the bot
    names the existing request instead of a new one."""
    from trackers import make_tracker

    services = make_services(tmp_path, handoff_service.url)
    token = mint_customer_token("ayse_k", CUSTOMER_SECRET)
    first = _with_token_on_the_last_message(handoff_tracker(username="ayse_k"), token)
    dispatcher, _ = run(ActionHandoff(services), first)
    assert responses_of(dispatcher) == ["utter_handoff_created"]
    again = _with_token_on_the_last_message(handoff_tracker(username="ayse_k"), token)
    second = make_tracker([e for e in again.events if e["event"] != "session_started"], again.slots, sender_id="tab-2")
    dispatcher, events = run(ActionHandoff(services), second)
    assert responses_of(dispatcher) == ["utter_handoff_joined"]
    assert dispatcher.messages[0]["ticket_number"] == "T-000001" and slots_of(events)["ticket_number"] == "T-000001"
    assert events[-1]["event"] == "pause"  # the agent of that request now hears this chat
    other_topic = _with_token_on_the_last_message(handoff_tracker(username="ayse_k", topic="login"), token)
    third = make_tracker(
        [e for e in other_topic.events if e["event"] != "session_started"], other_topic.slots, sender_id="tab-3"
    )
    dispatcher, _ = run(ActionHandoff(services), third)
    assert (
        responses_of(dispatcher) == ["utter_handoff_created"] and dispatcher.messages[0]["ticket_number"] == "T-000002"
    )


def test_a_confirmation_sent_again_after_its_server_died_hands_off_once(tmp_path, handoff_service) -> None:
    """The customer's "yes" reached a Rasa server that ran the handoff and
    died before it stored the turn; the web chat sends the message again
    with its own id, and another server handles it anew, under a message id
    of Rasa's own: still one ticket."""
    services = make_services(tmp_path, handoff_service.url)
    for rasa_message_id, resend in (("rasa-first", False), ("rasa-second", True)):
        tracker = handoff_tracker()
        tracker.latest_message = {
            **tracker.latest_message,
            "message_id": rasa_message_id,
            "metadata": {"message_id": "web-7f3a9c", "resend": resend},
        }
        _, events = run(ActionHandoff(services), tracker)
        assert slots_of(events)["ticket_number"] == "T-000001"
    assert len(handoff_service.tickets) == 1
    assert len(handoff_service.received) == 2  # the second post was the same request again
