"""The languages the desk speaks, and the one used when a language is unknown."""

from __future__ import annotations

from typing import Final

__all__ = ["SUPPORTED_LANGUAGES", "DEFAULT_LANGUAGE", "fallback_language"]

SUPPORTED_LANGUAGES: Final = ("tr", "en")
# Most customers write Turkish: a conversation whose language is not known
# yet (a first message that was only a date) is answered in Turkish.
DEFAULT_LANGUAGE: Final = "tr"


def fallback_language(language: str | None) -> str:
    """``language`` when the desk speaks it, otherwise the default."""
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
