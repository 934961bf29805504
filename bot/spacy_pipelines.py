"""Build the blank Turkish and English spaCy pipelines the NLU uses.

No pretrained spaCy 3.4 pipeline is on the package index, and nothing may be
downloaded at run time, so the pipelines are blank ones with the lookup
lemmatizer from spacy-lookups-data. The Turkish table also gets every key
written without Turkish letters ("hesabima" -> "hesap"), because customers
often type that way. Run: ``python -m bot.spacy_pipelines build/spacy``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import spacy
import spacy_lookups_data
from spacy.pipeline import Lemmatizer

from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.text import fold

__all__ = ["build_pipelines"]


def _build(language: str, target: Path) -> None:
    nlp = spacy.blank(language)
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    assert isinstance(lemmatizer, Lemmatizer)  # what "lemmatizer" names in spaCy
    nlp.initialize()
    if language == "tr":
        table = lemmatizer.lookups.get_table("lemma_lookup")
        source = Path(spacy_lookups_data.__file__).parent / "data" / "tr_lemma_lookup.json.gz"
        with gzip.open(source, "rt", encoding="utf-8") as handle:
            raw: dict[str, str] = json.load(handle)
        for key, lemma in raw.items():
            table[key] = fold(lemma)
        for key, lemma in raw.items():
            folded = fold(key)
            if folded and folded not in raw:
                table[folded] = fold(lemma)
    nlp.to_disk(target)


def build_pipelines(root: Path) -> None:
    for language in SUPPORTED_LANGUAGES:
        root.mkdir(parents=True, exist_ok=True)
        _build(language, root / language)
        print(f"built spaCy pipeline {root / language}")


if __name__ == "__main__":
    build_pipelines(Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy"))
