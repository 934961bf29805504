"""Per-message language detection for Turkish and English.

Short chat messages defeat statistical detectors ("ok", "dün", "04.05.1990"),
so clear signals decide first: Turkish letters and suffixes, and small lists
of very common words in each language. A character n-gram model limited to
the two languages (py3langid, which ships its model) decides the rest. A
message with no language in it (a date, a number, a username) returns None,
and the conversation keeps the language it had.
"""

from __future__ import annotations

import re
from functools import lru_cache

from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.text import fold

__all__ = ["detect_language"]

_TURKISH_LETTERS = re.compile(r"[çğışöüÇĞİŞÖÜ]")
_LETTERS = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# Tokens with digits, "_" or "@" are usernames, codes and dates: no language.
_CODE_TOKEN = re.compile(r"[\d_@]")
# Verb and case endings that English words of five letters or more rarely have.
_TR_SUFFIXES = (
    "iyorum",
    "uyorum",
    "iyor",
    "uyor",
    "iyoruz",
    "amiyorum",
    "emiyorum",
    "madi",
    "medi",
    "madim",
    "medim",
    "dim",
    "dum",
    "tim",
    "tum",
    "imi",
    "umu",
    "ini",
    "unu",
    "misin",
    "musun",
    "lari",
    "leri",
    "lar",
    "ler",
    "sini",
    "yim",
    "dir",
    "tir",
    "acak",
    "ecek",
)
_TR_WORDS = frozenset(
    fold(w)
    for w in [
        "merhaba",
        "selam",
        "slm",
        "mrb",
        "günaydın",
        "iyi",
        "akşamlar",
        "hayır",
        "evet",
        "tamam",
        "olur",
        "yok",
        "var",
        "bir",
        "bu",
        "şu",
        "ne",
        "nasıl",
        "neden",
        "niye",
        "ben",
        "benim",
        "bana",
        "sen",
        "siz",
        "lütfen",
        "teşekkürler",
        "teşekkür",
        "sağol",
        "sağolun",
        "tşk",
        "tesekkurler",
        "hesap",
        "hesabım",
        "hesabıma",
        "şifre",
        "sifre",
        "para",
        "çekme",
        "yatırma",
        "yatırdım",
        "çektim",
        "dün",
        "bugün",
        "önce",
        "geçen",
        "gün",
        "hafta",
        "ay",
        "yıl",
        "mı",
        "mi",
        "mu",
        "mü",
        "değil",
        "degil",
        "ile",
        "için",
        "icin",
        "gibi",
        "kadar",
        "daha",
        "çok",
        "cok",
        "hala",
        "hâlâ",
        "neden",
        "vazgeçtim",
        "iptal",
        "istiyorum",
        "yapamıyorum",
        "giremiyorum",
        "olmadı",
        "aynen",
        "doğru",
        "yanlış",
        "kullanıcı",
        "adım",
        "adi",
        "talebim",
        "talep",
        "durumda",
        "durumu",
        "oldu",
        "gelmedi",
        "bahis",
        "kupon",
        "kimlik",
        "belge",
        "destek",
        "temsilci",
        "canlı",
        "insan",
        "bot",
        "musun",
        "misin",
        "abi",
        "hocam",
    ]
)
_EN_WORDS = frozenset(
    [
        "hello",
        "hi",
        "hey",
        "thanks",
        "thank",
        "you",
        "yes",
        "no",
        "yeah",
        "yep",
        "nope",
        "please",
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "my",
        "me",
        "i",
        "you",
        "your",
        "it",
        "this",
        "that",
        "what",
        "how",
        "why",
        "when",
        "where",
        "can",
        "cannot",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "not",
        "account",
        "password",
        "login",
        "withdrawal",
        "deposit",
        "money",
        "yesterday",
        "today",
        "ago",
        "last",
        "week",
        "days",
        "day",
        "month",
        "year",
        "username",
        "name",
        "ticket",
        "status",
        "help",
        "agent",
        "human",
        "want",
        "need",
        "would",
        "could",
        "should",
        "have",
        "has",
        "had",
        "still",
        "problem",
        "issue",
        "cancel",
        "stop",
        "never",
        "mind",
        "bye",
        "goodbye",
        "sure",
        "correct",
        "wrong",
        "right",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "and",
        "or",
        "but",
    ]
)


@lru_cache(maxsize=1)
def _identifier():  # pragma: no cover - trivial construction
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


def detect_language(text: str) -> str | None:
    """Return "tr", "en" or None when the message carries no language."""
    if not text or not _LETTERS.search(text):
        return None
    if _TURKISH_LETTERS.search(text):
        return "tr"
    tokens = [t for t in fold(text).split() if not _CODE_TOKEN.search(t)]
    if not tokens:
        return None
    tr_hits = sum(t.rstrip("'") in _TR_WORDS or (len(t) >= 5 and t.endswith(_TR_SUFFIXES)) for t in tokens)
    en_hits = sum(t in _EN_WORDS for t in tokens)
    if tr_hits != en_hits:
        return "tr" if tr_hits > en_hits else "en"
    if len(tokens) == 1:
        return None  # one unknown word ("bonus", "transfer") says too little
    text = " ".join(tokens)
    words = _LETTERS.findall(text)
    if sum(len(w) for w in words) < 4:
        return None
    language, confidence = _identifier().classify(text.lower())
    return language if confidence >= 0.7 else None
