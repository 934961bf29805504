"""Which customer messages mean the same: the review inbox's grouping.

Texts are normalised (:func:`similarity_text`: what masking left, case,
Turkish letters, punctuation and numbers do not count), then clustered
greedily, earliest first: each joins the most similar earlier group leader
when :func:`similarity` (the mean of rapidfuzz's token sort ratio, for typos
and word order, and token set ratio, for a few extra words) reaches
:data:`GROUP_SIMILARITY`, else it leads a group of its own. The threshold is
calibrated on Turkish and English pairs in tests/handoff/test_editor_review.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from support_rules.text import fold

__all__ = ["GROUP_SIMILARITY", "COMPARED_CHARS", "similarity_text", "similarity", "group_leaders"]

GROUP_SIMILARITY = 83.0
_BLOCK = 512  # rows of the similarity matrix computed at once
_CANDIDATES = 8  # leaders closest by token sort ratio, scored in full
# what is compared of a message: its beginning (a 100 KB paste would make
# every comparison slow, and says what it is about early on)
COMPARED_CHARS = 300
# the matrix's type: rapidfuzz takes numpy's scalar type itself (its stubs say a dtype)
_SCORES: Any = np.uint8

# what support_rules.masking leaves of a secret: a card (last four digits
# kept), an IBAN (country, check digits, last four kept), an expiry date, a password
_MASKED = re.compile(r"\*{4} \*{4} \*{4} \d{4}|\b[A-Z]{2}\d{2} \*{4} \*{4} [A-Z0-9]{4}\b|\*\*/\*\*|\*{2,}")
_JOINED = re.compile(r"['\-]")  # "can't" = "cant", "e-posta" = "eposta"
_DIGITS = re.compile(r"\d+")  # "500 TL" = "1000 TL"
_NOT_WORD = re.compile(r"[^\w\s]|_")


def similarity_text(text: str) -> str:
    """A text as grouping compares it: masked secrets dropped, case-folded,
    Turkish letters folded (ı→i ş→s ğ→g ü→u ö→o ç→c) and other accents
    dropped, punctuation dropped, numbers alike, spaces collapsed; the
    first :data:`COMPARED_CHARS` characters."""
    text = fold(_MASKED.sub(" ", text[:COMPARED_CHARS]).replace("’", "'")).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = _NOT_WORD.sub(" ", _DIGITS.sub("0", _JOINED.sub("", text)))
    return " ".join(text.split())


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def similarity(first: str, second: str) -> float:
    """0-100: the mean of the token sort ratio (typos, word order) and the
    token set ratio (a few extra words) of the two normalised texts."""
    a, b = similarity_text(first), similarity_text(second)
    return (fuzz.ratio(_sorted_tokens(a), _sorted_tokens(b)) + fuzz.token_set_ratio(a, b)) / 2


def group_leaders(texts: Sequence[str], threshold: float) -> list[int]:
    """For each of the (distinct, normalised) texts, the index of its group's
    leader. Leader clustering in blocks: rapidfuzz scores a block of texts
    against the leaders so far and the block itself by token sort ratio
    (which the mean cannot exceed by more than its distance to 100), and the
    closest few leaders are scored in full."""
    ordered = [_sorted_tokens(text) for text in texts]
    prefilter = max(0.0, 2 * threshold - 100 - 1)
    leader_of = list(range(len(texts)))
    found: list[int] = []
    for start in range(0, len(texts), _BLOCK):
        stop = min(len(texts), start + _BLOCK)
        columns = found + list(range(start, stop))
        scores = process.cdist(
            ordered[start:stop],
            [ordered[j] for j in columns],
            scorer=fuzz.ratio,
            score_cutoff=prefilter,
            dtype=_SCORES,
            workers=-1,
        )
        open_columns = np.empty(len(columns), dtype=np.int64)
        open_columns[: len(found)] = np.arange(len(found))
        count = len(found)
        for i in range(start, stop):
            row = scores[i - start, open_columns[:count]]
            near = np.flatnonzero(row)
            best, best_score = -1, -1.0
            if near.size:
                for k in near[np.argsort(-row[near].astype(np.int16), kind="stable")[:_CANDIDATES]]:
                    j = columns[open_columns[k]]
                    score = (fuzz.ratio(ordered[i], ordered[j]) + fuzz.token_set_ratio(texts[i], texts[j])) / 2
                    if score > best_score:
                        best, best_score = j, score
            if best >= 0 and best_score >= threshold:
                leader_of[i] = best
            else:
                open_columns[count] = len(found) + (i - start)
                count += 1
        found = [columns[c] for c in open_columns[:count]]
    return leader_of
