"""The shape of an editors' notices file (data/notices.yml for the handoff
service, data/channel_notices.yml for the bot's channels): a top-level
``notices`` mapping, each notice worded in every supported language."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from support_rules.language import SUPPORTED_LANGUAGES

__all__ = ["load_notices"]


def load_notices(
    path: Path, required: Sequence[str], *, error: type[Exception] = ValueError
) -> dict[str, dict[str, str]]:
    """Each notice of the file by key, then by language. Raises ``error``
    when the mapping is missing, a ``required`` notice is missing, or any
    notice lacks a language (every text exists in Turkish and English)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    texts = data.get("notices") if isinstance(data, dict) else None
    if not isinstance(texts, dict):
        raise error(f"{path}: a top-level 'notices' mapping is required")
    for key in (*required, *(k for k in texts if k not in required)):
        entry = texts.get(key)
        if not isinstance(entry, dict) or any(not isinstance(entry.get(lang), str) for lang in SUPPORTED_LANGUAGES):
            raise error(f"{path}: notice {key!r} needs a text for each of {', '.join(SUPPORTED_LANGUAGES)}")
    return {str(key): {lang: str(entry[lang]) for lang in SUPPORTED_LANGUAGES} for key, entry in texts.items()}
