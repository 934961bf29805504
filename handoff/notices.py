"""Notices for a waiting customer, worded by editors in data/notices.yml.

No customer-facing text lives in Python: this module only loads the file
and fills the placeholders, in the ticket's language (English when a
language is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Notices", "load_notices", "NoticesError"]

LANGUAGES = ("tr", "en")
REQUIRED = ("agent_joined", "queue_position")


class NoticesError(RuntimeError):
    """The notices file is missing a notice or a language."""


@dataclass(frozen=True)
class Notices:
    texts: dict[str, dict[str, str]]

    def render(self, key: str, language: str, **values: Any) -> str:
        by_language = self.texts[key]
        template = by_language.get(language) or by_language["en"]
        return template.format(**values)


def load_notices(path: Path) -> Notices:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts = data.get("notices") if isinstance(data, dict) else None
    if not isinstance(texts, dict):
        raise NoticesError(f"{path}: a top-level 'notices' mapping is required")
    for key in REQUIRED:
        entry = texts.get(key)
        if not isinstance(entry, dict) or any(not isinstance(entry.get(lang), str) for lang in LANGUAGES):
            raise NoticesError(f"{path}: notice {key!r} needs a text for each of {', '.join(LANGUAGES)}")
    return Notices({k: {lang: str(v[lang]) for lang in LANGUAGES} for k, v in texts.items() if isinstance(v, dict)})
