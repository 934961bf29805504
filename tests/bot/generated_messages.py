"""Generated customer messages: the odd things customers (and their
browsers) send, for tests/bot/test_generated_messages.py.

Seeded, so a failing message can be found again by its index. Each kind
is a generator of one message; ``messages`` mixes them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

__all__ = ["KINDS", "messages"]

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u180e"
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
_CONTROL = "".join(chr(c) for c in [*range(0, 32), 127, *range(128, 160)])
_SPACES = " \t\n\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000\x0b\x0c"
_RTL = [
    "مرحبا، لم يصل السحب الخاص بي",
    "שלום, ההפקדה שלי לא הגיעה",
    "سلام، رمز عبورم را فراموش کردم",
    "\u202eevitca si tnuocca ym\u202c",
    "hesabım مرحبا 123 שלום withdrawal",
]
_EMOJI = [
    "😀",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇹🇷",
    "🇬🇧",
    "❤️",
    "🤷‍♀️",
    "💸💸💸",
    "🙏",
    "🧑🏿‍💻",
    "#️⃣",
    "🫠",
]
_WORDS = [
    "merhaba",
    "hello",
    "para",
    "çekme",
    "yatırma",
    "withdrawal",
    "deposit",
    "şifre",
    "password",
    "hesap",
    "account",
    "bonus",
    "İstanbul",
    "ığüşöç",
    "IĞÜŞÖÇ",
    "evet",
    "hayır",
    "yes",
    "no",
    "temsilci",
    "agent",
    "T-000001",
    "17.08.1985",
    "2012-03-12",
]
_JSON = [
    '{"sender": "x", "message": "/restart"}',
    '{"intent": "affirm", "entities": [{"entity": "x"}]}',
    '[1, 2, {"a": null}]',
    '{"__proto__": {"admin": true}}',
    '{"text": "\\u0000"}',
    "null",
    "true",
    '{"a":' * 50 + "1" + "}" * 50,
]
_HTML = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(document.cookie)>',
    "<b>kalın</b> <i>italic</i>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "&lt;script&gt;&#x3C;/script&#x3E;",
    "<!-- comment --><style>*{display:none}</style>",
    "javascript:alert(1)",
    "{{7*7}} ${7*7} <%= 7*7 %>",
]
_SQL = [
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    '" OR ""="',
    "admin'--",
    "1; SELECT * FROM agents WHERE 1=1",
    "UNION SELECT password_hash FROM agents",
    "Robert'); DROP TABLE tickets;--",
    "%' AND 1=0 UNION ALL SELECT NULL --",
]
_SLASH = [
    "/restart",
    "/session_start",
    "/stop",
    "/back",
    '/intent{"x":1}',
    '/greet{"language": "en"}',
    '/affirm{"username": "admin"}',
    "/inform_username{broken",
    "/handoff_resolved",
    "/action_restart",
    "//restart",
    "/ /session_start",
    "/",
    "///",
    "/nlu_fallback",
    "/out_of_scope",
    '/EXTERNAL_agent_message{"text": "hi"}',
    '/request_human{"department": "finance"}',
]


def _any_plane(rng: random.Random) -> str:
    """Code points from every plane, 0 to 16 (private use and tags too)."""
    out = []
    for _ in range(rng.randint(1, 40)):
        plane = rng.randint(0, 16)
        point = plane * 0x10000 + rng.randint(0, 0xFFFF)
        if 0xD800 <= point <= 0xDFFF:
            point += 0x800  # surrogates are not characters; _lone_surrogate sends those
        out.append(chr(point))
    return "".join(out)


def _lone_surrogate(rng: random.Random) -> str:
    # what a browser sends for a string cut in the middle of an emoji
    return rng.choice(["merhaba ", "hello ", ""]) + chr(rng.randint(0xD800, 0xDFFF)) + rng.choice(["", " ok"])


def _control(rng: random.Random) -> str:
    return "".join(rng.choice(_CONTROL + "ab ") for _ in range(rng.randint(1, 30)))


def _zero_width(rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    return "".join(c + rng.choice(_ZERO_WIDTH + _BIDI) for c in word) if rng.random() < 0.7 else _ZERO_WIDTH


def _rtl(rng: random.Random) -> str:
    return rng.choice(_RTL) + rng.choice(["", " " + rng.choice(_BIDI), " " + rng.choice(_WORDS)])


def _emoji(rng: random.Random) -> str:
    return " ".join(rng.choice(_EMOJI + _WORDS) for _ in range(rng.randint(1, 8)))


def _huge(rng: random.Random) -> str:
    """About 100 KB of text (more than any limit)."""
    unit = rng.choice(["para çekme ", "a", "💸", "İ", "withdrawal ", "ş" * 7 + " "])
    return unit * (100_000 // len(unit.encode("utf-8")))


def _json_like(rng: random.Random) -> str:
    return rng.choice(_JSON)


def _html_like(rng: random.Random) -> str:
    return rng.choice(_HTML) + rng.choice(["", " merhaba", " hello"])


def _sql_like(rng: random.Random) -> str:
    return rng.choice(_SQL)


def _slash(rng: random.Random) -> str:
    return rng.choice(_SLASH)


def _blank(rng: random.Random) -> str:
    return "".join(rng.choice(_SPACES) for _ in range(rng.randint(0, 12)))


def _words(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 12)))


def _mixed(rng: random.Random) -> str:
    parts = [rng.choice(list(KINDS.values()))(rng) for _ in range(rng.randint(2, 4))]
    return "".join(p[:2000] for p in parts)


def _format_string(rng: random.Random) -> str:
    return rng.choice(["%s%s%s%n", "{0}{1}{__class__}", "{text}", "\\x00\\u0000", "${jndi:ldap://x/a}", "%00"])


def _number(rng: random.Random) -> str:
    return rng.choice(
        [str(rng.randint(-(10**30), 10**30)), "NaN", "Infinity", "-0", "1e400", "99999-12-31", "31.02.2020", "0"]
    )


KINDS: dict[str, Callable[[random.Random], str]] = {
    "any_plane": _any_plane,
    "lone_surrogate": _lone_surrogate,
    "control": _control,
    "zero_width": _zero_width,
    "rtl": _rtl,
    "emoji": _emoji,
    "huge": _huge,
    "json": _json_like,
    "html": _html_like,
    "sql": _sql_like,
    "slash": _slash,
    "blank": _blank,
    "words": _words,
    "format": _format_string,
    "number": _number,
    "mixed": _mixed,
}
# 100 KB messages are few: each costs the channels a full parse
_WEIGHTS = {"huge": 0.3}


def messages(seed: int) -> Iterator[tuple[str, str]]:
    """(kind, text) without end, the same for the same seed."""
    rng = random.Random(seed)
    names = list(KINDS)
    weights = [_WEIGHTS.get(name, 1.0) for name in names]
    while True:
        name = rng.choices(names, weights)[0]
        yield name, KINDS[name](rng)


def dumps(body: object) -> bytes:
    """JSON as a browser's JSON.stringify writes it: lone surrogates escaped."""
    return json.dumps(body).encode("ascii")
