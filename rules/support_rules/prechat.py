"""The web chat's pre-chat form: what a visitor who is not signed in says
before the chat starts (name, topic, and optionally a username or an e-mail
address), as it travels in the first message's metadata (``prechat``).

Three readers, one set of rules:
- the channels (bot/channels/text.py) keep only the known keys, strings of
  the right length, secrets masked (the metadata is stored with the turn);
- the action server (actions/prechat.py) decides what each value is worth:
  a name is only for the greeting (never an identity), the topic and the
  username go through the triage form's own readers, the e-mail address is
  kept for the agents when it looks like one;
- the handoff service serves the limits to the page (``/chat/prechat.json``),
  which checks the same things before sending.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

from support_rules.catalogue import Catalogue
from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.masking import mask_secrets

__all__ = [
    "PRECHAT_KEY",
    "PRECHAT_LIMITS",
    "PreChat",
    "read_prechat",
    "display_name",
    "valid_email",
    "form_topics",
]

PRECHAT_KEY: Final = "prechat"  # in the first message's metadata
# The longest value of each field, in characters (the page's maxlength too).
PRECHAT_LIMITS: Final = {"name": 60, "topic": 64, "username": 64, "email": 254}

# A name is letters (any script, with their marks), written as words joined
# by spaces, apostrophes, hyphens or dots: "Ayşe", "Jean-Luc", "O'Neil",
# "Ş. Yılmaz". Digits, markup and symbols are not part of a name.
_NAME = re.compile(r"^[^\W\d_]+(?:(?:[ '’.-]|\. )[^\W\d_]+)*\.?$")
# One address part: printable, no spaces, no markup, no quotes; the domain
# has a dot and a top-level part of letters (the page's check is the same).
_EMAIL = re.compile(r"^[^\s@<>()\[\]\\,;:\"']+@[^\s@<>()\[\]\\,;:\"'_]+\.[^\W\d_]{2,}$")


@dataclass(frozen=True)
class PreChat:
    """The form's values as a channel keeps them (each may be missing)."""

    name: str | None = None
    topic: str | None = None
    username: str | None = None
    email: str | None = None

    def as_metadata(self) -> dict[str, str]:
        return {key: value for key, value in vars(self).items() if value}


def _clean(value: Any, limit: int) -> str | None:
    """A one-line string of at most ``limit`` characters, or None: control
    and format characters (zero-width, direction marks) dropped, runs of
    white space made one space; secrets masked, as in every stored text."""
    if not isinstance(value, str):
        return None
    value = unicodedata.normalize("NFC", value)
    kept = "".join(" " if ch.isspace() else ch for ch in value if unicodedata.category(ch)[0] != "C" or ch.isspace())
    kept = " ".join(kept.split())
    if not kept or len(kept) > limit:
        return None
    return mask_secrets(kept)


def read_prechat(raw: Any) -> PreChat | None:
    """The pre-chat values of a message's metadata: an object with string
    fields no longer than ``PRECHAT_LIMITS``; a field of another kind or too
    long is dropped, other keys are ignored. None when nothing is left."""
    if not isinstance(raw, dict):
        return None
    values = {key: _clean(raw.get(key), limit) for key, limit in PRECHAT_LIMITS.items()}
    if not any(values.values()):
        return None
    return PreChat(**values)


def display_name(name: str | None) -> str | None:
    """The name to greet a visitor by, or None when ``name`` does not read as
    a name (digits, a masked card number, markup, symbols). It is what the
    visitor typed, never who they are: it proves nothing."""
    if not name:
        return None
    name = " ".join(name.split())
    if len(name) > PRECHAT_LIMITS["name"] or not _NAME.match(name):
        return None
    return name


def valid_email(email: str | None) -> bool:
    """True when ``email`` has the form of an e-mail address (one ``@``, a
    domain with a dot, nothing that could be markup)."""
    return bool(email) and len(email or "") <= PRECHAT_LIMITS["email"] and bool(_EMAIL.match(email or ""))


def form_topics(catalogue: Catalogue) -> list[dict[str, Any]]:
    """The form's topic choices: the catalogue's topics, in its order, each
    with its id (what the form sends) and its name in every language."""
    return [
        {"id": topic.id, "name": {language: topic.label(language) for language in SUPPORTED_LANGUAGES}}
        for topic in catalogue.topics
    ]
