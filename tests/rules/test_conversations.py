"""support_rules/conversations.py: the conversation id, its secret and the
reference agents and logs see."""

from __future__ import annotations

import re

from support_rules.conversations import (
    CONVERSATION_REF_PREFIX,
    conversation_ref,
    conversation_secret,
    is_conversation_id,
    new_conversation_id,
    secret_matches,
)

KEY = "test-conversation-secret-key"


def test_new_ids_are_random_and_valid() -> None:
    ids = {new_conversation_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(is_conversation_id(i) and len(i) == 32 for i in ids)
    for bad in (None, 5, "", "short", "a" * 65, "../../etc", "x y z 1234"):
        assert not is_conversation_id(bad)


def test_only_the_secret_of_that_id_under_that_key_matches() -> None:
    one, other = new_conversation_id(), new_conversation_id()
    secret = conversation_secret(KEY, one)
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert secret_matches(KEY, one, secret)
    assert secret == conversation_secret(KEY, one)  # stateless: every replica computes the same
    for wrong in (None, "", 42, secret.upper(), secret[:-1], conversation_secret(KEY, other), "0" * 64, secret * 3):
        assert not secret_matches(KEY, one, wrong)
    assert not secret_matches("another key", one, secret)
    assert not secret_matches("", one, conversation_secret("", one))  # no key, no conversation
    assert not secret_matches(KEY, "me", conversation_secret(KEY, "me"))  # never an id the channel issues


def test_the_reference_is_short_stable_and_not_the_id() -> None:
    conversation_id = new_conversation_id()
    ref = conversation_ref(conversation_id)
    assert ref == conversation_ref(conversation_id) and ref.startswith(CONVERSATION_REF_PREFIX)
    assert len(ref) == len(CONVERSATION_REF_PREFIX) + 12
    assert conversation_id not in ref and ref[2:] not in conversation_id
    assert conversation_ref(new_conversation_id()) != ref
