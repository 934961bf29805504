"""Inflected forms of the catalogue's words.

Customers write "bonusumu", "çekimimi", "çektiğim", "yatırımımdan" where the
catalogue says "bonus", "çekim", "yatırım". Rather than a general Turkish
stemmer (which has to guess a root for every word and so makes "para" and
"par" the same), the lexicon is led by the catalogue: a token is a form of a
catalogue word when it is one of that word's roots followed by a suffix chain
the grammar below accepts. Ordinary words never match because only the
catalogue's roots are tried.

Everything works on folded text (support_rules.text.fold), where vowel
harmony is partly lost (ı/i, u/ü, o/ö), so the suffix patterns use two vowel
classes: high [iu] and low [ae]. Each root is one of:

- the word itself, bare or with Turkish suffixes (an English word: bare or
  with -s, -ed, -ing);
- a verb root under a verbal noun (-ma/-me/-mak/-mek, -ım/-um): "çekme",
  "çekim" -> "çek"; followed by a verb chain, never bare;
- a verb root under a conjugated verb ("gelmedi" -> "gel"), whose forms must
  keep its polarity ("gelmiyor" matches, "geldi" does not);
- a noun root under a possessive or case ending ("hesabım", "kuponum",
  "iadesi" -> "hesap", "kupon", "iade"); bare only inside a longer phrase
  and under an ending other than -ım ("üyelik iptal" is "üyelik iptali",
  but "yatır" is not "yatırım").

Roots ending in a softened consonant are stored hard ("hesab" -> "hesap") and
a token's root is hardened before a vowel, as Turkish does (k->ğ, t->d, p->b,
ç->c; after folding ğ is g and ç is c). A root whose last vowel is ı/i may
drop it before a vowel ("bahis" -> "bahsi").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

__all__ = ["Lexicon"]

_VOWELS = "aeiou"
_HARD = {"b": "p", "d": "t", "g": "k"}
# Roots shorter than this are never derived ("aç" would match too much).
_MIN_ROOT = 3
# A noun root cut from a catalogue word keeps at least this many letters.
_MIN_NOUN_ROOT = 4

# Nominal chain: plural, possessive, case, "-ki", copula, question particle.
_POSSESSIVE = r"(?:[iu]?m(?:[iu]z)?|[iu]?n(?:[iu]z)?|s?[iu]|l[ae]r[iu])"
_CASE = r"(?:[yn]?[iu]|[yn]?[ae]|n?[dt][ae]n?|n?[iu]?n|y?l[ae]|n?c[ae])"
_KI = r"(?:ki(?:n[iu]|n[ae]|nd[ae]n?|n[iu]n)?)"
_TAIL = r"(?:y?d[iu]|y?m[iu]s|[dt][iu]r|m[iu])"
_NOMINAL = rf"(?:l[ae]r)?{_POSSESSIVE}?{_CASE}?{_KI}?{_TAIL}?"

# Verb chain: voice, polarity, tense/participle, second tense, person, then
# a participle or verbal noun may carry a nominal chain ("çektiğimi").
_VOICE = r"(?:[iu]?l|[iu]?n)?"
_POSITIVE = r"(?:y?[ae]bil)?"
_NEGATIVE = r"(?:y?[ae]m[ae]?|m[ae]?)"
_TENSE = (
    r"(?:[dt][iu][kg]?|m[iu]s|[iu]?yor|[aeiu]?r|y?[ae]c[ae][kg]|y?[ae]n"
    r"|m[ae]k?|m[ae]s[iu]|m[ae]l[iu]|m[ae]kt[ae]n?|y?[iu]p|y?[iu]nc[ae]|y?k[ae]n|s[ae])"
)
_NEGATIVE_TENSE = r"(?:y?[ae])?m[ae]z"
_TENSE2 = r"(?:[dt][iu]|m[iu]s|s[ae]|y?d[iu]|y?m[iu]s|y?s[ae])?"
_PERSON = r"(?:y?[iu]m|s[iu]n(?:[iu]z)?|y?[iu]z|l[ae]r|m|n|k|n[iu]z|[iu]m[iu]z)?"
_VERB_TAIL = rf"{_TENSE2}{_PERSON}{_NOMINAL}"

_NOUN_CHAIN = re.compile(_NOMINAL)
_VERB_POSITIVE = re.compile(rf"{_VOICE}{_POSITIVE}{_TENSE}{_VERB_TAIL}")
_VERB_NEGATIVE = re.compile(rf"{_VOICE}(?:{_NEGATIVE}{_TENSE}|y?[ae]m[ae]|{_NEGATIVE_TENSE}){_VERB_TAIL}")

# The endings of a finite verb or participle in the catalogue itself.
_FINITE = re.compile(
    r"(?:[iu]?l|[iu]?n)?(?P<negative>y?[ae]m[ae]?|m[ae]?)?"
    r"(?:[dt][iu]|[iu]?yor|m[iu]s|[dt][iu][kg])(?:[iu]?m|n|k|[iu]z|l[ae]r|s[iu]n|d[iu])?"
)
# Verbal nouns and the possessives a catalogue word may already carry.
_VERBAL_NOUN = re.compile(r"(?:m[ae]k?|[iu]m)$")
# (ending, letters the root before it may end with): "hesabımı" -> "hesab",
# "şifremi" -> "şifre", "iadesi" -> "iade", "hesaba" -> "hesab".
_CONSONANTS = "bcdfghjklmnprstvyz"
_OWN_POSSESSIVE = (
    *((ending, _CONSONANTS) for ending in ("imi", "umu", "im", "um", "i", "u")),
    *((ending, _VOWELS) for ending in ("si", "su", "ni", "nu", "mi", "m")),
    *((ending, "bcdg") for ending in ("a", "e")),
)
_ENGLISH = ("s", "es", "ed", "d", "ing")


class _Kind(Enum):
    WORD = "word"  # the catalogue word itself, bare or with Turkish suffixes
    ENGLISH = "english"  # an English catalogue word, bare or with English endings
    NOUN = "noun"  # a noun root under a one-word phrase: suffixed forms only
    STEM = "stem"  # a noun root inside a longer phrase: also bare ("iptal")
    VERB = "verb"  # a verb root: verb forms of either polarity
    POSITIVE = "positive"  # a verb root of a conjugated word: positive forms
    NEGATIVE = "negative"  # ... negative forms


# Kinds of root that take case endings after an apostrophe ("eft'mi", "2fa'yı").
_NOUNS = frozenset({_Kind.WORD, _Kind.NOUN, _Kind.STEM, _Kind.ENGLISH})


@dataclass(frozen=True)
class _Root:
    word: str
    kind: _Kind


class Lexicon:
    """The forms of the words of a fixed set of folded phrases.

    Turkish words get Turkish suffixes, English words English endings. A
    conjugated verb is inflected only inside a longer phrase ("ödeme
    gelmedi"): alone ("donuyor") its root is too ambiguous once folded.
    """

    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        self._roots: dict[str, set[_Root]] = {}
        for phrase, language in set(phrases):
            words = phrase.split()
            for word in words:
                for text, kind in _derive(word, language, alone=len(words) == 1):
                    keys = {text} if kind is _Kind.ENGLISH else {text, _harden(text)}
                    for key in keys:
                        self._roots.setdefault(key, set()).add(_Root(word, kind))

    def words_of(self, token: str) -> set[str]:
        """The lexicon's words ``token`` is a form of (itself included)."""
        found: set[str] = set()
        if "'" in token:
            # Suffixes after an apostrophe: "papara'ya", "eft'mi".
            stem, _, chain = token.partition("'")
            if _NOUN_CHAIN.fullmatch(chain):
                for candidate in {stem, _harden(stem)}:
                    found |= {r.word for r in self._roots.get(candidate, ()) if r.kind in _NOUNS}
            return found
        for cut in range(2, len(token) + 1):
            stem, chain = token[:cut], token[cut:]
            for candidate in _stems(stem, chain):
                for root in self._roots.get(candidate, ()):
                    if _accepts(root, candidate, chain):
                        found.add(root.word)
        return found


def _stems(stem: str, chain: str) -> set[str]:
    """The roots a token's beginning may stand for, given what follows."""
    candidates = {stem}
    if chain[:1] in tuple(_VOWELS):
        candidates.add(_harden(stem))
        # A dropped high vowel: "bahs" + "i" is "bahis".
        if len(stem) >= 4 and stem[-1] not in _VOWELS and stem[-2] not in _VOWELS:
            candidates.add(_harden(stem[:-1] + "i" + stem[-1]))
    return candidates


def _accepts(root: _Root, stem: str, chain: str) -> bool:
    if root.kind is _Kind.ENGLISH:
        return not chain or _english(root.word, stem + chain)
    if root.kind in (_Kind.WORD, _Kind.STEM):
        return _NOUN_CHAIN.fullmatch(chain) is not None
    if not chain:
        return False  # "yatır" is no "yatırım", "çek" no "çekim"
    if root.kind is _Kind.NOUN:
        return _NOUN_CHAIN.fullmatch(chain) is not None
    positive = _VERB_POSITIVE.fullmatch(chain) is not None
    negative = _VERB_NEGATIVE.fullmatch(chain) is not None
    if root.kind is _Kind.POSITIVE:
        return positive
    if root.kind is _Kind.NEGATIVE:
        return negative
    return positive or negative


def _english(word: str, token: str) -> bool:
    """English plurals, -ed and -ing: "withdrawals", "depositing", "betting"."""
    if not word.isalpha() or not token.startswith(word[:-1]):
        return False
    forms = {word + ending for ending in _ENGLISH}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word[:-1] + "ed"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word[-1] not in _VOWELS + "wy" and word[-2:-1] in tuple(_VOWELS):
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return token in forms


def _derive(word: str, language: str, alone: bool) -> list[tuple[str, _Kind]]:
    if language != "tr":
        return [(word, _Kind.ENGLISH)]
    derived: list[tuple[str, _Kind]] = [(word, _Kind.WORD)]
    if not word.isalpha():
        return derived
    verbal_noun = _VERBAL_NOUN.search(word)
    if verbal_noun and len(word) - len(verbal_noun.group()) >= _MIN_ROOT:
        derived.append((word[: verbal_noun.start()], _Kind.VERB))
    if not alone:
        derived.extend(_conjugated_root(word))
    for ending, before in _OWN_POSSESSIVE:
        root = word[: -len(ending)]
        if word.endswith(ending) and len(root) >= _MIN_NOUN_ROOT and root[-1] in before:
            # "-ım" may be a verbal noun rather than a possessive ("yatırım").
            bare = not alone and not ending.endswith("m")
            derived.append((root, _Kind.STEM if bare else _Kind.NOUN))
    return derived


def _conjugated_root(word: str) -> list[tuple[str, _Kind]]:
    """The shortest verb root under a finite verb ("gelmedi", "çektim"), with
    its polarity; a short ending is not trusted ("kartı" is not "kar" + -tı)."""
    for cut in range(_MIN_ROOT, len(word) - 2):
        finite = _FINITE.fullmatch(word[cut:])
        if finite:
            kind = _Kind.NEGATIVE if finite.group("negative") else _Kind.POSITIVE
            return [(word[:cut], kind)]
    return []


def _harden(stem: str) -> str:
    return stem[:-1] + _HARD[stem[-1]] if stem and stem[-1] in _HARD else stem
