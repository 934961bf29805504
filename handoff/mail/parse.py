"""An inbound e-mail as the desk reads it: ``parse_mail(raw) -> InboundMail``.

Never raises on what a sender can get wrong: an unknown or broken charset
is decoded with replacement characters, a missing part is empty, a header
that cannot be read is left out; each such problem is named in
``InboundMail.problems`` (for the log), and the mail is still handled.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

__all__ = ["Attachment", "InboundMail", "parse_mail", "html_to_text", "MAX_TEXT_CHARS", "LOOP_HEADERS"]

# a mail's text beyond this is cut (a customer does not write more; masking stays fast)
MAX_TEXT_CHARS = 20_000
_MAX_ID = 250
# headers handoff.mail.loops reads
LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "return-path",
    "content-type",
)
_ID_RE = re.compile(r"<[^<>\s]{1,500}>")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # as declared by the sender; the document checks decide what it is
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    sender: str  # lower-case address, "" when none could be read
    sender_name: str
    subject: str
    message_id: str  # the sender's, or one derived from the bytes when it sent none
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    attachments: tuple[Attachment, ...]
    headers: dict[str, str]  # LOOP_HEADERS present, lower-case names
    recipients: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, the nearest first."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


class _Text(HTMLParser):
    """Visible text of an HTML body; quoted history (blockquote) left out."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"})
    _HIDDEN = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything left is kept as read so far
        pass
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode(data: bytes, charset: str | None, problems: list[str]) -> str:
    name = (charset or "utf-8").strip().strip('"').lower() or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        problems.append(f"unknown charset {name[:40]!r}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            name = "windows-1254"  # Turkish mail that is not UTF-8 is mostly this (a superset of Latin-1's letters)
    try:
        text = data.decode(name, errors="replace")
    except Exception:  # a codec that is not a text encoding (e.g. "rot13" declared as a charset)
        problems.append(f"charset {name[:40]!r} is not a text encoding")
        text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        problems.append(f"undecodable bytes in {name}")
    return text


def _header(msg: Message, name: str, problems: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot make sense of
        problems.append(f"unreadable {name} header")
        return ""
    if value is None:
        return ""
    text = str(value)
    if _CONTROL.search(text):  # a NUL (an encoded word may carry one) no database stores
        problems.append(f"control characters in the {name} header")
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


# C0 controls but tab, line feed and carriage return (folding is undone after)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# the longest address SMTP allows (RFC 5321): a longer one is no sender
MAX_ADDRESS = 254


def _ids(value: str) -> tuple[str, ...]:
    return tuple(m[:_MAX_ID] for m in _ID_RE.findall(value))


def _part_text(part: Message, problems: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        problems.append("undecodable part")
        return ""
    if not isinstance(payload, bytes):
        return ""
    return _decode(payload, part.get_content_charset(), problems)


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return "attachment"
    return " ".join(str(name).split())[:255] if name else None


def _walk(msg: Message, problems: list[str]) -> tuple[str, tuple[Attachment, ...]]:
    plain: str | None = None
    html: str | None = None
    files: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if name or disposition == "attachment" or not ctype.startswith("text/"):
            if ctype.startswith("multipart/") or ctype == "message/rfc822":
                continue
            try:
                data = part.get_payload(decode=True)
            except Exception:
                problems.append("undecodable attachment")
                data = None
            if isinstance(data, bytes) and (name or data):
                files.append(Attachment(name or "attachment", ctype, data))
            continue
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part, problems)
        elif ctype == "text/html" and html is None:
            html = _part_text(part, problems)
    text = plain if plain is not None and plain.strip() else html_to_text(html) if html else (plain or "")
    return text, tuple(files)


def _clean(text: str, problems: list[str]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        problems.append(f"text cut at {MAX_TEXT_CHARS} characters")
        text = text[:MAX_TEXT_CHARS]
    return text.strip()


def parse_mail(raw: bytes) -> InboundMail:
    problems: list[str] = []
    msg = email.message_from_bytes(raw, policy=policy.default)
    for defect in getattr(msg, "defects", [])[:5]:
        problems.append(type(defect).__name__)
    try:
        name, address = parseaddr(_header(msg, "from", problems))
    except Exception:
        name, address = "", ""
    address = address.strip().lower() if "@" in address else ""
    if len(address) > MAX_ADDRESS:
        problems.append("a sender address longer than SMTP allows")
        address = ""
    message_ids = _ids(_header(msg, "message-id", problems))
    if message_ids:
        message_id = message_ids[0]
    else:
        problems.append("no Message-ID")
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    try:
        text, attachments = _walk(msg, problems)
    except Exception as exc:  # a structure the parser gave up on: keep what the bytes say
        problems.append(f"unreadable structure: {type(exc).__name__}")
        text, attachments = _decode(raw, "utf-8", problems), ()
    recipients = tuple(
        a.lower() for _, a in getaddresses([_header(msg, h, problems) for h in ("to", "cc")]) if "@" in a
    )
    headers = {h: v for h in LOOP_HEADERS if (v := _header(msg, h, problems))}
    return InboundMail(
        sender=address,
        sender_name=" ".join(name.split())[:200],
        subject=_header(msg, "subject", problems)[:998],
        message_id=message_id,
        in_reply_to=_ids(_header(msg, "in-reply-to", problems)),
        references=_ids(_header(msg, "references", problems))[-50:],
        text=_clean(text, problems),
        attachments=attachments,
        headers=headers,
        recipients=recipients,
        problems=tuple(problems),
    )
