"""How fast the review inbox finds and groups items (handoff.editor.review).

``PYTHONPATH=rules:. .venv/handoff/bin/python -m bench.review_grouping``
prints, for 5,000 items (the default; ``--items N``), the time to find them
in their transcripts (five lines a conversation) and to group them, median
of three runs, and writes build/bench/review_grouping.json (not with ``--no-json``). The messages are
the FAQ examples of data/faq/ in both languages, written the way customers
write: typos, no Turkish letters, capitals, punctuation, a word more. A
second set is random words of those examples, three to eight (hardly two
alike: the clustering's worst case, most items leading a group). Not a test: the figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml

from bench.common import ROOT, table, write_results
from handoff.editor.review import Group, Item, find_items, group_items
from support_rules.text import fold

START = datetime(2026, 9, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Line:
    conversation_id: str
    event_key: str
    kind: str
    text: str
    intent: str | None
    confidence: float | None
    faq: str | None
    response: str | None
    timestamp: datetime


def _examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for language in ("tr", "en"):
        data = yaml.safe_load((ROOT / "data" / "faq" / f"nlu_{language}.yml").read_text(encoding="utf-8"))
        out[language] = [
            line[2:].strip()
            for block in data["nlu"]
            for line in block["examples"].splitlines()
            if line.startswith("- ")
        ]
    return out


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def _written(rng: random.Random, text: str) -> str:
    ways: list[Callable[[str], str]] = [
        lambda s: s,
        lambda s: _typo(rng, s),
        fold,
        lambda s: s.upper(),
        lambda s: s + rng.choice(["!!", "??", " lütfen", " please", " acil"]),
    ]
    return rng.choice(ways)(text)


def _transcripts(texts: list[tuple[str, str]]) -> tuple[list[Line], dict[str, str]]:
    """Each text a fallback in a conversation of its own, between a greeting and a rephrase request."""
    lines: list[Line] = []
    languages: dict[str, str] = {}
    for n, (language, text) in enumerate(texts):
        conversation = f"c{n}"
        at = START + timedelta(minutes=17 * n)
        languages[conversation] = language
        turns = [
            ("customer", "merhaba", "greet", 0.99, None),
            ("bot", "Merhaba!", None, None, "utter_how_can_i_help"),
            ("customer", text, "nlu_fallback", 0.45, None),
            ("bot", "Tekrar yazar mısınız?", None, None, "utter_please_rephrase"),
            ("customer", "tamam", "affirm", 0.9, None),
        ]
        for k, (kind, words, intent, confidence, response) in enumerate(turns):
            lines.append(
                Line(
                    conversation,
                    f"{conversation}-{k}",
                    kind,
                    words,
                    intent,
                    confidence,
                    None,
                    response,
                    at + timedelta(seconds=20 * k),
                )
            )
    return lines, languages


def _measure(name: str, texts: list[tuple[str, str]]) -> dict[str, Any]:
    lines, languages = _transcripts(texts)
    finds: list[float] = []
    groupings: list[float] = []
    items: list[Item] = []
    groups: list[Group] = []
    for _ in range(3):
        began = time.perf_counter()
        items = find_items(lines, languages=languages, endings={}, threshold=0.6, decided=set(), now=START)
        finds.append(time.perf_counter() - began)
        began = time.perf_counter()
        groups = group_items(items)
        groupings.append(time.perf_counter() - began)
    return {
        "set": name,
        "lines": len(lines),
        "items": len(items),
        "groups": len(groups),
        "largest_group": groups[0].count if groups else 0,
        "find_s": round(statistics.median(finds), 3),
        "group_s": round(statistics.median(groupings), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--no-json", action="store_true", help="print only, write nothing under build/")
    args = parser.parse_args()
    rng = random.Random(15)
    examples = _examples()
    written = [
        (language, _written(rng, rng.choice(examples[language])))
        for language in (rng.choice(("tr", "tr", "en")) for _ in range(args.items))
    ]
    vocabulary = sorted({word for text in examples["tr"] for word in text.split()})
    distinct = [("tr", " ".join(rng.sample(vocabulary, rng.randint(3, 8)))) for _ in range(args.items)]
    rows = [_measure("customers' messages", written), _measure("no two alike", distinct)]
    print(table([list(r.values()) for r in rows], list(rows[0])))
    if not args.no_json:
        write_results("review_grouping", {"items": args.items, "results": rows})


if __name__ == "__main__":
    main()
