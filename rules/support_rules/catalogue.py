"""The editors' catalogue of departments, topics and transaction types.

Loaded from data/catalogue.yml; code never repeats its contents. Matching is
fuzzy (rapidfuzz) over the names and synonyms in both languages, folded to
plain ASCII so that typos and Turkish written without Turkish letters match,
and exact over inflected forms of the same words (support_rules.inflection:
"bonusumu", "çektiğim", "withdrawals"), except for ``ask_only`` entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from support_rules.inflection import Lexicon
from support_rules.text import fold

__all__ = ["Catalogue", "Entry", "Match", "load_catalogue"]

# A phrase must score at least this (0-100) to count as a match.
_MIN_SCORE = 85
# Single words this short are only matched exactly (avoids "yok" ~ "yol").
_MIN_FUZZY_LEN = 5
# An inflected form of a phrase scores just under the phrase written as is,
# so a longer inflected phrase ("yatırım limitimi") beats a shorter plain one
# inside it ("yatırım").
_INFLECTED_SCORE = 99.999


@dataclass(frozen=True)
class Entry:
    id: str
    names: dict[str, str]
    synonyms: tuple[str, ...]
    # Names and synonyms together, by language ("tr", "en").
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    department: str | None = None
    faq: tuple[str, ...] = ()
    ask_only: bool = False
    skips_date: bool = False
    fallback: bool = False

    def label(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.id


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    matched: str


@dataclass
class _Index:
    entries: list[Entry]
    phrases: list[str] = field(default_factory=list)
    owners: list[Entry] = field(default_factory=list)
    # Phrases whose inflected forms count, split into words, by first word.
    inflectable: dict[str, list[tuple[tuple[str, ...], Entry]]] = field(default_factory=dict)
    lexicon: Lexicon = field(init=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            for phrase in sorted({fold(p) for p in (*entry.names.values(), *entry.synonyms)}):
                if phrase:
                    self.phrases.append(phrase)
                    self.owners.append(entry)
                    if not entry.ask_only:
                        split = tuple(phrase.split())
                        self.inflectable.setdefault(split[0], []).append((split, entry))
        self.lexicon = Lexicon(
            (fold(phrase), language)
            for entry in self.entries
            if not entry.ask_only
            for language, phrases in entry.phrases.items()
            for phrase in phrases
        )

    def best(self, text: str, answer: bool = True) -> Match | None:
        """Best entry for a direct answer (``answer``) or a phrase in a sentence."""
        folded = fold(text)
        if not folded:
            return None
        candidates: list[Match] = []
        for span in _spans(folded.split(), max_len=4):
            for phrase, score, idx in process.extract(span, self.phrases, scorer=fuzz.ratio, limit=3):
                if len(span) < _MIN_FUZZY_LEN and span != phrase:
                    continue
                if not answer and self.owners[idx].ask_only:
                    continue
                if score >= _MIN_SCORE:
                    # Longer matched phrases are more specific: prefer them on ties.
                    candidates.append(Match(self.owners[idx], score + len(phrase) / 100, phrase))
        candidates.extend(self._inflected(folded.split()))
        if not candidates:
            return None
        return max(candidates, key=lambda m: m.score)

    def _inflected(self, tokens: list[str]) -> list[Match]:
        """Phrases of the catalogue written with suffixes ("çekimimi", "para çektiğim")."""
        forms = [self.lexicon.words_of(token) | {token} for token in tokens]
        found: list[Match] = []
        for start, first in enumerate(forms):
            for word in first:
                for words, entry in self.inflectable.get(word, ()):
                    span = tokens[start : start + len(words)]
                    if len(span) < len(words) or tuple(span) == words:
                        continue  # too short, or written as is (scored above)
                    if all(w in forms[start + i] for i, w in enumerate(words)):
                        phrase = " ".join(words)
                        found.append(Match(entry, _INFLECTED_SCORE + len(phrase) / 100, phrase))
        return found


def _spans(tokens: list[str], max_len: int) -> Iterable[str]:
    for size in range(min(max_len, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            yield " ".join(tokens[start : start + size])


class Catalogue:
    """Departments, topics and transaction types, with fuzzy lookup."""

    def __init__(self, raw: dict) -> None:
        self._raw = raw
        self.departments = [_entry(d) for d in raw.get("departments", [])]
        self.topics = [_entry(t) for t in raw.get("topics", [])]
        self.transaction_types = [_entry(t) for t in raw.get("transaction_types", [])]
        known = {d.id for d in self.departments}
        for topic in self.topics:
            if topic.department not in known:
                raise ValueError(f"topic {topic.id!r} names unknown department {topic.department!r}")
        fallbacks = [t.id for t in self.topics if t.fallback]
        if len(fallbacks) > 1:
            raise ValueError(f"only one topic may be the fallback, not {', '.join(fallbacks)}")
        self._topics = _Index(self.topics)
        self._types = _Index(self.transaction_types)

    def match_topic(self, text: str, answer: bool = True) -> Match | None:
        return self._topics.best(text, answer)

    def match_transaction_type(self, text: str, answer: bool = True) -> Match | None:
        return self._types.best(text, answer)

    def topic(self, topic_id: str) -> Entry | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def transaction_type(self, type_id: str) -> Entry | None:
        return next((t for t in self.transaction_types if t.id == type_id), None)

    def department(self, department_id: str) -> Entry | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def topic_for_faq(self, faq_id: str) -> Entry | None:
        return next((t for t in self.topics if faq_id in t.faq), None)

    @property
    def fallback_topic(self) -> Entry | None:
        """The topic of a request whose topic matched nothing (``fallback: true``)."""
        return next((t for t in self.topics if t.fallback), None)

    def section(self, name: str) -> dict[str, Any]:
        """Another top-level section of the file as written (e.g. ``priority``),
        for the rules that read it; empty when the file has none."""
        value = self._raw.get(name)
        return dict(value) if isinstance(value, dict) else {}


def _entry(raw: dict) -> Entry:
    synonyms = raw.get("synonyms") or {}
    flat = tuple(s for values in synonyms.values() for s in values)
    names = dict(raw["name"])
    phrases = {lang: tuple(p for p in (names.get(lang), *synonyms.get(lang, ())) if p) for lang in {*names, *synonyms}}
    return Entry(
        id=raw["id"],
        names=names,
        synonyms=flat,
        phrases=phrases,
        department=raw.get("department"),
        faq=tuple(raw.get("faq") or ()),
        ask_only=bool(raw.get("ask_only", False)),
        skips_date=bool(raw.get("skips_date", False)),
        fallback=bool(raw.get("fallback", False)),
    )


def load_catalogue(path: str | Path) -> Catalogue:
    with open(path, encoding="utf-8") as handle:
        return Catalogue(yaml.safe_load(handle) or {})
