"""Short replies the triage form must recognise: "I don't know", "a person",
and hedges that keep a "yes" from counting as a clear yes.

The words are the editors', in data/replies.yml (never texts the bot says:
those are in domain/responses.yml). The buttons offered after two
unreadable answers send the first phrase of each list as their payload.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from .settings import ROOT

__all__ = [
    "SKIPPED",
    "MISSES_BEFORE_CHOICES",
    "CLEAR_YES_CONFIDENCE",
    "known",
    "is_skip",
    "wants_person",
    "is_clear_yes",
    "confirmation_reply",
]

# The value of a triage slot the customer could not give; the summary shows
# it as null (schemas/handoff_summary.schema.json).
SKIPPED = "unknown"
# Unreadable answers for one slot before the bot offers choices and a way out.
MISSES_BEFORE_CHOICES = 2
# An affirm below this confidence is asked again.
CLEAR_YES_CONFIDENCE = 0.8


REPLIES_PATH = ROOT / "data" / "replies.yml"


@lru_cache(maxsize=4)
def load_replies(path: Path = REPLIES_PATH) -> dict[str, tuple[str, ...]]:
    """Each list of data/replies.yml, both languages together."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lists = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(lists, dict):
        raise ValueError(f"{path}: a top-level 'replies' mapping is required")
    found: dict[str, tuple[str, ...]] = {}
    for key in ("skip", "person", "hedges"):
        by_language = lists.get(key)
        if not isinstance(by_language, dict) or not all(by_language.get(lang) for lang in ("tr", "en")):
            raise ValueError(f"{path}: '{key}' needs words in tr and en")
        found[key] = tuple(str(word) for lang in ("tr", "en") for word in by_language[lang])
    return found


def _normal(text: str) -> str:
    # "I" stays "i" (English "I don't know"); dotless spellings are listed too.
    lowered = text.replace("İ", "i").lower()
    lowered = lowered.replace("’", "'")
    return " ".join(re.findall(r"[\w']+", lowered))


def _says(text: str, phrases: tuple[str, ...]) -> bool:
    words = f" {_normal(text)} "
    return any(f" {phrase} " in words for phrase in phrases)


def _is_hedge(word: str) -> bool:
    # "hmmm", "emmm", "eeee": drawn-out sounds count as their short form.
    squeezed = re.sub(r"(.)\1+", r"\1", word)
    return squeezed in {"hm", "em", "e", "ı", "ıh", "eh"}


def known(value: str | None) -> str | None:
    """A triage slot's value, or None when it is empty or was skipped."""
    return None if value in (None, "", SKIPPED) else value


def is_skip(text: str) -> bool:
    """The whole answer is "I don't know" (or "skip")."""
    return _normal(text) in {_normal(p) for p in load_replies()["skip"]}


def wants_person(text: str, intent: str | None) -> bool:
    """Asked for a person: the intent, or the whole answer is "a person"
    (a word such as "agent" inside a longer answer may be about something else)."""
    return intent == "request_human" or _normal(text) in {_normal(p) for p in load_replies()["person"]}


def _hedged(text: str) -> bool:
    return _says(text, load_replies()["hedges"]) or any(_is_hedge(word) for word in _normal(text).split())


def is_clear_yes(text: str, intent: str | None, confidence: float) -> bool:
    """Only an affirm the model is sure of, with no hedge in it, confirms."""
    return intent == "affirm" and confidence >= CLEAR_YES_CONFIDENCE and not _hedged(text)


def confirmation_reply(text: str, intent: str | None, confidence: float) -> str:
    """The reply to the summary: "clear" (a yes), "no" (a clear no, so ask
    what to change) or "vague" (ask the question again)."""
    if is_clear_yes(text, intent, confidence):
        return "clear"
    if intent == "deny" and confidence >= CLEAR_YES_CONFIDENCE and not _hedged(text):
        return "no"
    return "vague"
