"""action_extract_context: the language of each message and what a signed customer token proves."""

from __future__ import annotations

import time

import jwt
import pytest
from action_services import CUSTOMER_SECRET
from trackers import make_tracker, run, slots_of, user_event

from actions.context import ActionExtractContext


def test_language_follows_each_message(services) -> None:
    _, events = run(ActionExtractContext(services), make_tracker([user_event("hello, I cannot log in", "faq")]))
    assert slots_of(events)["language"] == "en"
    _, events = run(
        ActionExtractContext(services), make_tracker([user_event("şifremi unuttum", "faq")], {"language": "en"})
    )
    assert slots_of(events)["language"] == "tr"


def test_a_message_without_language_keeps_the_current_one(services) -> None:
    _, events = run(
        ActionExtractContext(services), make_tracker([user_event("04.05.1990", "inform")], {"language": "en"})
    )
    assert "language" not in slots_of(events)


def _token(secret: str, **claims) -> str:
    return jwt.encode(
        {"username": "ayse_k", "age_verified": True, "exp": int(time.time()) + 60, **claims}, secret, algorithm="HS256"
    )


def test_a_signed_token_skips_what_it_proves(services) -> None:
    event = user_event("merhaba", "greet", metadata={"customer_token": _token(CUSTOMER_SECRET)})
    _, events = run(ActionExtractContext(services), make_tracker([event]))
    assert slots_of(events) == {"age_status": "over_18", "age_method": "verified_token", "username": "ayse_k"}


@pytest.mark.parametrize(
    "token",
    [
        _token("not-the-configured-secret-but-long-enough"),
        _token(CUSTOMER_SECRET, exp=int(time.time()) - 5),
        "not a token",
    ],
)
def test_bad_or_expired_tokens_prove_nothing(services, token) -> None:
    event = user_event("merhaba", "greet", metadata={"customer_token": token})
    _, events = run(ActionExtractContext(services), make_tracker([event]))
    assert "age_status" not in slots_of(events) and "username" not in slots_of(events)


def test_customer_metadata_claiming_is_external_does_not_skip_the_context(services) -> None:
    event = user_event(
        "hello, I cannot log in", "faq", metadata={"is_external": True, "customer_token": _token(CUSTOMER_SECRET)}
    )
    _, events = run(ActionExtractContext(services), make_tracker([event]))
    assert slots_of(events) == {
        "language": "en",
        "age_status": "over_18",
        "age_method": "verified_token",
        "username": "ayse_k",
    }


def _form(**values) -> dict:
    return {"prechat": values}


def test_the_pre_chat_form_fills_name_topic_username_and_email(services) -> None:
    metadata = _form(name="Ayşe", topic="withdrawal", username="ayse_k", email="ayse@example.com")
    _, events = run(ActionExtractContext(services), make_tracker([user_event("merhaba", "greet", metadata=metadata)]))
    assert slots_of(events) == {
        "customer_name": "Ayşe",
        "topic": "withdrawal",
        "username": "ayse_k",
        "customer_email": "ayse@example.com",
    }


def test_the_pre_chat_form_never_answers_the_age_check(services) -> None:
    metadata = _form(name="Mark", topic="login", username="mark_77")
    _, events = run(ActionExtractContext(services), make_tracker([user_event("hello", "greet", metadata=metadata)]))
    assert "age_status" not in slots_of(events) and "age_method" not in slots_of(events)


def test_a_topic_named_in_words_is_read_as_the_chat_reads_it(services) -> None:
    _, events = run(
        ActionExtractContext(services),
        make_tracker([user_event("hello", "greet", metadata=_form(name="Mark", topic="password reset"))]),
    )
    assert slots_of(events)["topic"] == "password"


@pytest.mark.parametrize(
    ("form", "left_for_the_chat"),
    [
        ({"name": "Mark", "topic": "no such topic", "username": "mark_77"}, "topic"),
        ({"name": "Mark", "topic": "login", "username": "no spaces allowed"}, "username"),
        ({"name": "Mark", "topic": "login", "username": "1x"}, "username"),  # the platform's pattern
        ({"name": "Mark", "topic": ["login"], "username": "mark_77"}, "topic"),
    ],
)
def test_an_invalid_topic_or_username_is_left_for_the_chat_to_ask(services, form, left_for_the_chat) -> None:
    _, events = run(
        ActionExtractContext(services), make_tracker([user_event("hello", "greet", metadata=_form(**form))])
    )
    assert left_for_the_chat not in slots_of(events)
    assert slots_of(events)["customer_name"] == "Mark"


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "**** **** **** 1111", "4111111111111111", "a" * 61])
def test_a_name_that_is_not_a_name_does_not_greet(services, name) -> None:
    _, events = run(
        ActionExtractContext(services),
        make_tracker([user_event("hi", "greet", metadata=_form(name=name, topic="login"))]),
    )
    assert "customer_name" not in slots_of(events)
    assert slots_of(events)["topic"] == "login"


def test_an_invalid_email_is_not_kept(services) -> None:
    metadata = _form(name="Mark", topic="login", email="mark@@example")
    _, events = run(ActionExtractContext(services), make_tracker([user_event("hello", "greet", metadata=metadata)]))
    assert "customer_email" not in slots_of(events)


def test_the_form_sent_again_overwrites_no_answer(services) -> None:
    metadata = _form(name="Someone Else", topic="deposit", username="other_user")
    tracker = make_tracker(
        [user_event("hello", "greet", metadata=metadata)],
        {"customer_name": "Mark", "topic": "withdrawal", "username": "mark_77"},
    )
    _, events = run(ActionExtractContext(services), tracker)
    assert not {"customer_name", "topic", "username"} & set(slots_of(events))


def test_a_signed_token_wins_over_the_username_typed_in_the_form(services) -> None:
    metadata = {"customer_token": _token(CUSTOMER_SECRET), **_form(name="Ayşe", topic="login", username="someone_else")}
    _, events = run(ActionExtractContext(services), make_tracker([user_event("merhaba", "greet", metadata=metadata)]))
    slots = slots_of(events)
    assert slots["username"] == "ayse_k" and slots["customer_name"] == "Ayşe"
    assert [e["value"] for e in events if e.get("name") == "username"] == ["ayse_k"]
