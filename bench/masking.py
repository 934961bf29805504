"""How well and how fast ``support_rules.masking`` masks: the corpus in
tests/rules/masking_corpus/ (lines with secrets, each naming what must
disappear, and lines without any that must stay as they are).

``python -m bench.masking`` (``make masking-report``) prints both rates, the
lines that miss, and the time per line; the figures go to
build/bench/masking.json. tests/rules/test_masking_corpus.py asserts the
rates; this script only reports them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support_rules.masking import mask_secrets

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "rules" / "masking_corpus"
OUT = ROOT / "build" / "bench" / "masking.json"


@dataclass(frozen=True)
class CorpusLine:
    text: str
    secrets: tuple[str, ...]
    language: str


def load(name: str) -> list[CorpusLine]:
    data = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))
    return [
        CorpusLine(str(item["text"]), tuple(str(s) for s in item.get("secrets") or ()), str(item.get("language", "")))
        for item in data["lines"]
    ]


def leaks(line: CorpusLine) -> list[str]:
    """The secrets of ``line`` still readable once it is masked."""
    masked = mask_secrets(line.text)
    return [secret for secret in line.secrets if secret in masked]


def changed(line: CorpusLine) -> bool:
    return mask_secrets(line.text) != line.text


def report() -> dict[str, Any]:
    secret_lines, clean_lines = load("with_secrets.yml"), load("without_secrets.yml")
    secrets = sum(len(line.secrets) for line in secret_lines)
    leaked = [(line, leaks(line)) for line in secret_lines]
    leaked = [(line, found) for line, found in leaked if found]
    touched = [line for line in clean_lines if changed(line)]
    texts = [line.text for line in secret_lines + clean_lines]
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            mask_secrets(text)
    per_line_us = (time.perf_counter() - start) / (rounds * len(texts)) * 1e6
    long_text = " ".join(texts) * 10  # one long message (~100 KB)
    start = time.perf_counter()
    mask_secrets(long_text)
    long_ms = (time.perf_counter() - start) * 1e3
    masked_count = secrets - sum(len(found) for _, found in leaked)
    return {
        "secret_lines": len(secret_lines),
        "secrets": secrets,
        "secrets_masked": masked_count,
        "clean_lines": len(clean_lines),
        "clean_untouched": len(clean_lines) - len(touched),
        "microseconds_per_line": round(per_line_us, 1),
        "long_text_chars": len(long_text),
        "long_text_milliseconds": round(long_ms, 1),
        "leaks": [{"text": line.text, "masked": mask_secrets(line.text), "left": found} for line, found in leaked],
        "touched": [{"text": line.text, "masked": mask_secrets(line.text)} for line in touched],
    }


def main() -> None:
    figures = report()
    for leak in figures["leaks"]:
        print(f"LEAK     {leak['masked']!r}  still shows {leak['left']}")
    for line in figures["touched"]:
        print(f"TOUCHED  {line['text']!r}\n      -> {line['masked']!r}")
    s, n = figures["secrets_masked"], figures["secrets"]
    c, m = figures["clean_untouched"], figures["clean_lines"]
    print(
        f"secrets masked {100 * s / n:.1f}% ({s}/{n} in {figures['secret_lines']} lines), "
        f"clean lines untouched {100 * c / m:.1f}% ({c}/{m})"
    )
    print(
        f"{figures['microseconds_per_line']} µs per line; one {figures['long_text_chars']:,}-character text in "
        f"{figures['long_text_milliseconds']} ms"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
