"""bot/channels/text.py and the limit it is given (bot/settings.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.text import METADATA_KEYS, CustomerMetadata, clean_customer_text, read_metadata
from bot.settings import DEFAULT_MAX_METADATA_BYTES, Settings
from support_rules.limits import MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("/restart", "restart"),
        ('  //greet{"x": 1}', 'greet{"x": 1}'),
        ("/ agent please", "agent please"),
        ("merhaba / selam", "merhaba / selam"),
        ("", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_leading_slashes_are_removed(raw: Any, cleaned: str) -> None:
    assert clean_customer_text(raw, MAX_MESSAGE_CHARS) == cleaned


def test_text_is_cut_at_the_limit() -> None:
    assert clean_customer_text("a" * 5000, max_chars=4000) == "a" * 4000
    assert clean_customer_text("  /" + "b" * 20, max_chars=5) == "bbbbb"


def test_the_limit_is_the_shared_one_unless_the_environment_lowers_it() -> None:
    assert Settings.from_env({}).max_message_chars == MAX_MESSAGE_CHARS == 4000
    assert Settings.from_env({"CHANNEL_MAX_MESSAGE_CHARS": "500"}).max_message_chars == 500
    assert Settings.from_env({"CHANNEL_MAX_MESSAGE_CHARS": "many"}).max_message_chars == MAX_MESSAGE_CHARS
    assert Settings.from_env({"CHANNEL_MAX_MESSAGE_CHARS": "0"}).max_message_chars == 1


@pytest.mark.parametrize(
    ("raw", "metadata"),
    [
        ({"language": "tr"}, {"language": "tr"}),
        ('{"language": "en", "message_id": "abc-123"}', {"language": "en", "message_id": "abc-123"}),
        ("{bad json", {}),
        ("[1, 2]", {}),
        (["language"], {}),
        (None, {}),
    ],
)
def test_metadata_is_an_object_or_nothing(raw: Any, metadata: dict[str, Any]) -> None:
    assert read_metadata(raw, DEFAULT_MAX_METADATA_BYTES) == CustomerMetadata(metadata)


def test_only_the_keys_the_product_reads_are_kept() -> None:
    assert METADATA_KEYS == ("language", "message_id", "resend", "customer_token", "prechat")
    sent = {
        "language": "en",
        "message_id": "m-1",
        "resend": True,
        "customer_token": "a.b.c",
        "is_external": True,  # Rasa's own flag for intents the service triggers: never the customer's
        "username": "someone_else",
        "nested": {"deep": [1, 2, 3]},
    }
    kept = {"language": "en", "message_id": "m-1", "resend": True, "customer_token": "a.b.c"}
    assert read_metadata(sent, DEFAULT_MAX_METADATA_BYTES) == CustomerMetadata(kept)
    odd = {"language": "de", "message_id": "m" * 65, "resend": "yes", "customer_token": ["a.b.c"]}
    assert read_metadata(odd, DEFAULT_MAX_METADATA_BYTES) == CustomerMetadata({})


@pytest.mark.parametrize("as_text", [False, True])
def test_metadata_over_the_limit_keeps_only_the_small_keys(as_text: bool) -> None:
    small = {"language": "tr", "message_id": "m-2", "resend": True}
    fits = {**small, "customer_token": "t" * 1900}
    raw: Any = fits
    assert read_metadata(raw, 2048) == CustomerMetadata(fits)
    too_big = {**small, "customer_token": "t" * 2100}
    padded = {**small, "customer_token": "a.b.c", "padding": "ş" * 1100}  # 2,200 bytes, not characters
    for raw in (too_big, padded):
        raw = json.dumps(raw) if as_text else raw
        assert read_metadata(raw, 2048) == CustomerMetadata(small, oversized=True)


def test_the_metadata_limit_is_a_setting() -> None:
    assert Settings.from_env({}).max_metadata_bytes == DEFAULT_MAX_METADATA_BYTES == 2048
    assert Settings.from_env({"CHANNEL_MAX_METADATA_BYTES": "512"}).max_metadata_bytes == 512


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("merhaba \ud83d", "merhaba \ufffd"),  # half an emoji, as a browser cuts a string
        ("\udfff ok", "\ufffd ok"),
        ("\ud83d\ude00", "😀"),  # a pair is one character
        ("😀 İ ş", "😀 İ ş"),
    ],
)
def test_unpaired_surrogates_become_replacement_characters(raw: str, cleaned: str) -> None:
    """Found by the generated messages: Rasa could not store such a text, so
    the turn failed with an error in its log."""
    text = clean_customer_text(raw, MAX_MESSAGE_CHARS)
    assert text == cleaned
    assert text.encode("utf-8")  # every store writes UTF-8


def test_the_pre_chat_form_is_kept_as_strings_of_bounded_length() -> None:
    sent = {
        "language": "tr",
        "prechat": {
            "name": "  Ayşe\u200b  Yılmaz ",
            "topic": "withdrawal",
            "username": ["ayse_k"],  # not a string: dropped
            "email": "a" * 300 + "@example.com",  # too long: dropped
            "role": "admin",  # not a field of the form: ignored
        },
    }
    kept = read_metadata(sent, DEFAULT_MAX_METADATA_BYTES).kept
    assert kept == {"language": "tr", "prechat": {"name": "Ayşe Yılmaz", "topic": "withdrawal"}}


@pytest.mark.parametrize("prechat", ["Ayşe", ["Ayşe"], {"name": 42, "topic": None}, {"name": "\u200b \t"}, {}])
def test_a_pre_chat_value_of_the_wrong_kind_is_no_pre_chat(prechat: Any) -> None:
    assert "prechat" not in read_metadata({"language": "en", "prechat": prechat}, DEFAULT_MAX_METADATA_BYTES).kept


def test_a_card_number_given_as_a_name_is_masked_before_it_is_stored() -> None:
    sent = {"prechat": {"name": "4111 1111 1111 1111", "topic": "deposit"}}
    kept = read_metadata(sent, DEFAULT_MAX_METADATA_BYTES).kept["prechat"]
    assert "4111 1111 1111 1111" not in kept["name"] and "*" in kept["name"]
    assert kept["topic"] == "deposit"


def test_the_pre_chat_form_survives_metadata_over_the_limit() -> None:
    """The token is dropped (it is what makes metadata large); the form's
    fields are short by their own limits and stay."""
    sent = {"language": "en", "customer_token": "t" * 2100, "prechat": {"name": "Mark", "topic": "login"}}
    assert read_metadata(sent, 2048) == CustomerMetadata(
        {"language": "en", "prechat": {"name": "Mark", "topic": "login"}}, oversized=True
    )
