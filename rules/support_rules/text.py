"""Text normalisation shared by the matchers."""

from __future__ import annotations

import re

__all__ = ["fold", "fold_letters", "words"]

_TURKISH_FOLD = str.maketrans(
    {
        "ç": "c",
        "ğ": "g",
        "ı": "i",
        "ö": "o",
        "ş": "s",
        "ü": "u",
        "â": "a",
        "î": "i",
        "û": "u",
        "Ç": "c",
        "Ğ": "g",
        "I": "i",
        "İ": "i",
        "Ö": "o",
        "Ş": "s",
        "Ü": "u",
    }
)
_NON_WORD = re.compile(r"[^\w\s'-]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and drop Turkish diacritics, so "Para Çekme" == "para cekme"."""
    return " ".join(_NON_WORD.sub(" ", text.translate(_TURKISH_FOLD).lower()).split())


def words(text: str) -> list[str]:
    return fold(text).split()


def fold_letters(text: str) -> str:
    """Like :func:`fold` but keeps punctuation, which dates need ("04.05.1990")."""
    return " ".join(text.translate(_TURKISH_FOLD).lower().replace("’", "'").split())
