"""bot/channels/text.py and the limit it is given (bot/settings.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.text import clean_customer_text, read_metadata
from bot.settings import Settings
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
    assert read_metadata(raw) == metadata


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
