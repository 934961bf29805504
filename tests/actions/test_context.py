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
