"""The new words of a reply: quoted history and signatures cut off.

What mail programs put under a reply, in Turkish and English: an
attribution line ("On ... wrote:", "... tarihinde ... yazdı:"), ">" lines,
Outlook's "-----Original Message-----" / "-----Özgün İleti-----" or its
"From: ... Sent: ..." block, and signatures ("-- ", "Sent from my iPhone",
"iPhone'umdan gönderildi"). Everything from the first such mark down is
history; ">" lines in between (inline quoting) are dropped too.
"""

from __future__ import annotations

import re

from support_rules.limits import MAX_MESSAGE_CHARS

__all__ = ["strip_quotes", "new_words"]

_ATTRIBUTION = re.compile(
    r"^\s*(on\s.{1,300}\swrote\s*:"  # On Mon, 1 Dec 2026 at 10:00, Ayşe <a@b> wrote:
    r"|.{0,300}\btarihinde\s.{0,300}\byazd[ıi]\s*:"  # 1 Ara 2026 Pzt 10:00 tarihinde Ali <a@b> şunu yazdı:
    r")\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|orijinal mesaj|özgün ileti|ozgun ileti|forwarded message|iletilen ileti"
    r"|ileti̇len i̇leti̇)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|kimden)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|to|subject|gönderildi|gönderilme|tarih|kime|konu)\s*:", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(
    r"^\s*(sent from my \S+.*|get outlook for \S+.*|sent from (mail|outlook|yahoo mail) for \S+.*"
    r"|\S+['’]?(umdan|imden|ımdan|imdan|den|dan) gönderildi\.?"
    r"|\S+ cihazımdan gönderildi\.?|outlook for \S+ edinin\.?)\s*$",
    re.IGNORECASE,
)


def _is_attribution(line: str, following: str) -> bool:
    if len(line) > 400:
        return False
    if _ATTRIBUTION.match(line):
        return True
    folded = line.lower()
    # "On ..., <x@y>" broken before "wrote:" by the sender's mail program
    return bool(
        following
        and (folded.lstrip().startswith("on ") or "tarihinde" in folded)
        and _ATTRIBUTION.match(f"{line} {following}")
    )


def _is_header_block(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    return any(_HEADER_NEXT.match(line) for line in lines[i + 1 : i + 5])


def _quoted_to_the_end(lines: list[str]) -> list[bool]:
    """For each line: it and every line after it are quoted (or blank)."""
    out = [False] * len(lines)
    rest = True
    for i in range(len(lines) - 1, -1, -1):
        rest = rest and (not lines[i].strip() or lines[i].lstrip().startswith(">"))
        out[i] = rest
    return out


def _history_starts(lines: list[str]) -> int:
    quoted_tail = _quoted_to_the_end(lines)
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.rstrip("\n") in ("-- ", "--"):
            return i
        if _SEPARATOR.match(line) or _SIGNATURE.match(line) or _is_attribution(line, following):
            return i
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _is_header_block(lines, i + 1):
            return i
        if _is_header_block(lines, i):
            return i
        if line.lstrip().startswith(">") and quoted_tail[i]:
            return i
    return len(lines)


def strip_quotes(text: str) -> str:
    """``text`` without the history under it and without ">" lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept = [line for line in lines[: _history_starts(lines)] if not line.lstrip().startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def new_words(text: str) -> str:
    """What a reply adds, as long as a customer message may be (longer is cut,
    as in the other channels)."""
    return strip_quotes(text)[:MAX_MESSAGE_CHARS].strip()
