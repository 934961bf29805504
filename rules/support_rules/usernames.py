"""Usernames found in what customers write (ticket numbers: support_rules.tickets)."""

from __future__ import annotations

import re

__all__ = ["find_username"]

# Words that introduce a username; the candidate is the token after them.
_USERNAME_INTRO = re.compile(
    r"(?:kullan[ıi]c[ıi]\s*ad[ıi]m?(?:\s*[:=])?\s*|kullan[ıi]c[ıi]\s*ad[ıi]m[ıi]z?\s*|nick(?:name)?(?:im)?\s*[:=]?\s*"
    r"|user\s*name(?:\s+is)?\s*[:=]?\s*|username(?:\s+is)?\s*[:=]?\s*|user\s*id\s*[:=]?\s*)"
    r"(?P<name>\S+)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?\"')("


def find_username(text: str, pattern: str, bare: bool = True) -> str | None:
    """A username that fits the platform's pattern.

    Either introduced ("kullanıcı adım ayse_k", "my username is mark_77") or,
    with ``bare``, the whole message when the bot has just asked for it.
    """
    compiled = re.compile(pattern)
    text = (text or "").strip()
    match = _USERNAME_INTRO.search(text)
    candidates = [match.group("name").strip(_TRAILING)] if match else []
    if bare:
        candidates.append(text.strip(_TRAILING))
    for candidate in candidates:
        if candidate and compiled.fullmatch(candidate):
            return candidate
    return None
