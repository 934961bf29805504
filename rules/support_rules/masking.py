"""Masking of secrets customers (and agents) type into a chat.

``mask_secrets`` is the one function every process applies before text is
stored, posted or shown. It replaces:

- payment card numbers, however they are written (spaces, double spaces,
  dashes, dots, glued to a word: ``kartno4111111111111111``) when the
  number is a card (an issuer's prefix and the Luhn check), when it is
  grouped the way cards are printed (four groups of four), or when a card
  word comes just before it. Order and ticket numbers, phone numbers,
  dates and amounts do not pass those checks and stay readable. The
  masked form keeps the last four digits: ``**** **** **** 1111``;
- IBANs with spaces, dashes or dots, in either case, glued to a word: the
  country's IBAN length and the mod-97 check (or, for an all-digit account
  part, the length alone) decide; masked as ``TR33 **** **** 1326``;
- passwords, one-time codes, PINs and card security codes (``CVV2 123``)
  introduced by a keyword: the value after the keyword (and a few filler
  words such as "kodum", "is", "şu") becomes ``******``. A value is a
  secret when it holds a digit or a symbol, or follows ``:`` or ``=``;
  ordinary words ("şifremi unuttum", "the code is wrong"), dates, times,
  amounts, durations and ticket numbers after a keyword are not.
"""

from __future__ import annotations

import re

__all__ = ["luhn_valid", "iban_valid", "mask_secrets", "mask_card_number", "SECRET_MASK"]

SECRET_MASK = "******"

# --- card numbers -----------------------------------------------------------

# Digits with at most a short separator between any two: 1-2 spaces, or a
# dash or dot with optional spaces around it. Only digits may not touch the
# run, so a number glued to a word ("kartno4111...") is still a run.
_DIGIT_RUN_RE = re.compile(r"(?<!\d)\d(?:(?:[ \t]{1,2}|[ \t]?[-.][ \t]?)?\d){12,}(?!\d)")
_GROUP_RE = re.compile(r"\d+")
# A card word shortly before a number makes it a card even when the
# customer mistyped a digit (the rest would still leak).
_CARD_WORD_RE = re.compile(
    r"(?:kart|card|visa|mastercard|master card|amex|troy|maestro|debit|credit|kredi)", re.IGNORECASE
)
_CARD_WORD_REACH = 30


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _issuer_length_ok(digits: str) -> bool:
    """An issuer's prefix (IIN) with one of its lengths: Visa, Mastercard,
    Amex, Diners, JCB, Discover, UnionPay, Maestro, Troy."""
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19
    if p2 == 50 or 56 <= p2 <= 69:  # Maestro, Discover, UnionPay
        return 13 <= n <= 19
    if p4 == 9792:  # Troy
        return n == 16
    return False


def mask_card_number(digits: str) -> str:
    """Keep the last four digits, the way receipts do."""
    return "**** **** **** " + digits[-4:]


def _printed_like_a_card(groups: list[str], separators: list[str]) -> bool:
    return [len(g) for g in groups] == [4, 4, 4, 4] and len(set(s.strip() or " " for s in separators)) == 1


def _card_at(text: str, groups: list[re.Match[str]], first: int, near_card_word: bool) -> tuple[int, str] | None:
    """(index of the last group, digits) of a card starting at group ``first``."""
    digits = ""
    for last in range(first, len(groups)):
        digits += groups[last].group(0)
        if len(digits) > 19:
            return None
        if len(digits) < 13:
            continue
        used = groups[first : last + 1]
        seps = [text[a.end() : b.start()] for a, b in zip(used, used[1:])]
        if (
            (luhn_valid(digits) and _issuer_length_ok(digits))
            or _printed_like_a_card([g.group(0) for g in used], seps)
            or near_card_word
        ):
            return last, digits
    return None


def _separator_kind(separator: str) -> str:
    return separator.strip() or " "


def _uniform_runs(text: str, run: re.Match[str]) -> list[list[re.Match[str]]]:
    """The groups of a run of digits, split where the separator changes: a
    card is written with one kind of separator, so in "12.11.2026 4111 1111
    1111 1111" the date and the card are apart."""
    parts: list[list[re.Match[str]]] = []
    kind = None
    for group in _GROUP_RE.finditer(text, run.start(), run.end()):
        if parts:
            link = _separator_kind(text[parts[-1][-1].end() : group.start()])
            if kind is None or link == kind:
                kind = link
                parts[-1].append(group)
                continue
        parts.append([group])
        kind = None
    return parts


def _mask_cards(text: str) -> str:
    """Every card number inside a run of digits, masked; a card starts and
    ends at a group boundary."""
    out: list[str] = []
    pos = 0
    for run in _DIGIT_RUN_RE.finditer(text):
        for groups in _uniform_runs(text, run):
            first = 0
            while first < len(groups):
                start = groups[first].start()
                before = text[max(0, start - _CARD_WORD_REACH) : start]
                near = first == 0 and _CARD_WORD_RE.search(before) is not None
                found = _card_at(text, groups, first, near)
                if found is None:
                    first += 1
                    continue
                last, digits = found
                out.append(text[pos:start])
                out.append(mask_card_number(digits))
                pos = groups[last].end()
                first = last + 1
    out.append(text[pos:])
    return "".join(out)


# --- IBANs ------------------------------------------------------------------

# ISO 13616 registry: the IBAN's length in each country.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Two letters, two check digits, then letters and digits with at most a
# short separator between any two. Letters may touch the start ("ibanTR33...").
_IBAN_RE = re.compile(r"(?<!\d)([A-Za-z]{2}\d{2}(?:(?:[ \t]{1,2}|[ \t]?[-.][ \t]?)?[A-Za-z0-9]){10,32})")
_IBAN_WORD_RE = re.compile(r"iban", re.IGNORECASE)


def iban_valid(iban: str) -> bool:
    """ISO 13616: the country's length and the mod-97 check."""
    iban = iban.upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _iban_span(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """(end, compact IBAN) of an IBAN at the start of ``match``'s group."""
    written = match.group(1)
    country = written[:2].upper()
    length = _IBAN_LENGTHS.get(country)
    if length is None:
        return None
    count = 0
    end = 0
    compact = []
    for index, char in enumerate(written):
        if char.isalnum():
            compact.append(char)
            count += 1
            if count == length:
                end = index + 1
                break
    if count < length:
        return None
    iban = "".join(compact).upper()
    stop = match.start(1) + end
    if stop < len(text) and text[stop].isdigit():
        return None  # longer than this country's IBAN: some other number
    if iban_valid(iban):
        return stop, iban
    # A mistyped check digit still leaks the account: an all-digit account
    # part of exactly the country's length, written as an IBAN, is one.
    near_word = _IBAN_WORD_RE.search(text[max(0, match.start() - 20) : match.start(1)]) is not None
    if iban[4:].isdigit() and (written[:2].isupper() or near_word):
        return stop, iban
    return None


def _mask_ibans(text: str) -> str:
    out: list[str] = []
    pos = 0
    search_from = 0
    while (match := _IBAN_RE.search(text, search_from)) is not None:
        span = _iban_span(text, match)
        if span is None:
            search_from = match.start(1) + 1
            continue
        stop, iban = span
        out.append(text[pos : match.start(1)])
        out.append(f"{iban[:4]} **** **** {iban[-4:]}")
        pos = search_from = stop
    out.append(text[pos:])
    return "".join(out)


# --- passwords, codes, PINs, security codes ---------------------------------

_TURKISH_FOLD = str.maketrans("çğıöşüâîûÇĞIİÖŞÜ", "cgiosuaiucgiiosu")
# Keywords, folded (Turkish letters to ASCII, lower case); longer forms first.
_SECRET_WORDS = (
    "sifremizi|sifremiz|sifreniz|sifresini|sifresi|sifremi|sifrem|sifre|parolasi|parolami|parolam|parola|"
    "passwords|password|passwd|passcode|passphrase|pwd|pw|pass|"
    "kodumuz|kodumu|kodum|kodunu|kodu|kod|codes|code|otp|pin|cvv2|cvc2|cvv|cvc|cvn"
)
# A keyword is a whole word, though digits may touch it ("kodum483920",
# "cvv2 123"): "kodunuzu", "şifrenizi" or "passport" are other words.
_KEYWORD_RE = re.compile(rf"(?<![^\W\d_])(?:{_SECRET_WORDS})(?![^\W\d_])")
# Keywords of the "code" family that name something else after these words.
_CODE_WORDS = {"kodumuz", "kodumu", "kodum", "kodunu", "kodu", "kod", "codes", "code", "pin"}
_OTHER_CODES = {
    "hata", "error", "promosyon", "promo", "promotion", "bonus", "kupon", "coupon", "voucher", "indirim",
    "discount", "referans", "reference", "referral", "davet", "invite", "invitation", "posta", "postal",
    "zip", "post", "swift", "bic", "country", "ulke", "alan", "area", "status", "durum", "takip",
    "tracking", "urun", "product", "siparis", "order", "kampanya", "campaign", "gift", "hediye", "qr",
    "kaynak", "source", "bank", "banka", "sube", "branch", "islem", "transaction", "vergi", "tax",
    "musteri", "customer", "uye", "member", "affiliate", "ref", "sort", "routing", "http", "response",
}  # fmt: skip
# Words that may stand between a keyword and its value.
_FILLERS = {
    "is", "was", "are", "am", "=", ":", "-", "su", "sudur", "olarak", "da", "de", "hala", "halen", "still",
    "now", "simdi", "artik", "yeni", "new", "my", "the", "numaram", "numarasi", "numarasini", "number",
    "no", "kodum", "kodu", "kod", "code", "bu", "this", "here", "its", "it's", "ise", "olan", "diye",
    "geldi", "gelen", "gonderilen", "sent", "received", "i", "got", "get", "as", "to", "ile", "kartin",
    "kart", "card", "sifre", "sifrem", "sifresi", "one-time", "tek", "kullanimlik",
}  # fmt: skip
# Words after a keyword that say something about the secret, not what it is.
_NOT_SECRETS = {
    "gelmedi", "gelmiyor", "gelmiyo", "yok", "calismiyor", "calismadi", "hatali", "yanlis", "unuttum",
    "sifirlama", "sifirla", "sifirlamak", "reset", "not", "doesn't", "doesnt", "isn't", "didn't", "never",
    "arrive", "arriving", "does", "nasil", "degistirmek", "degistirdim", "degistir", "change", "changed",
    "forgot", "for", "and", "istiyorum", "lazim", "icin", "expired", "wrong", "invalid", "incorrect",
    "gecersiz", "dogru", "correct", "kabul", "edilmiyor", "onaylanmadi", "sorunu", "problem", "issue",
    "field", "alani", "ekrani", "screen", "link", "linki", "baglantisi", "mail", "e-posta", "email", "sms",
    "mesaj", "message", "gelir", "gelecek", "hangi", "which", "what", "ne", "neden", "why", "nerede",
    "where", "where's", "ekranda", "istiyor", "istedi", "soruyor", "asks", "asked", "required", "gerekli",
    "talep", "request", "requested", "tekrar", "again", "bekliyorum", "waiting", "girdim", "girdigim",
    "entered", "enter", "giremiyorum", "yazdim", "typed", "var", "there", "dogrulama", "verification",
}  # fmt: skip
_TOKEN_RE = re.compile(r"[ \t]*([:=])?[ \t]*([^\s,;]+)")
_EDGE_PUNCT = ".,;:!?)(\"'«»“”‘’[]"
_NOT_A_SECRET_VALUE_RE = re.compile(
    r"""^(?:
        \d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?('\w+)?      # a date
      | \d{1,2}:\d{2}('\w+)?                           # a time
      | \d+(?:[.,]\d+)?(?:tl|try|usd|eur|gbp|\$|€|£|₺|lira|dk|dakika|min|mins|minutes|sn|saniye|sec|saat|h|gun|days?|kez|times|x)('\w+)?
      | \d{1,2}['’]\w+                                 # an inflected number (12'de)
      | (?:19|20)\d\d['’]\w+                          # an inflected year (2024'te)
      | \d+(?:st|nd|rd|th|\.)                          # an ordinal
      | t-\d+                                          # a ticket number
      | \d{1,2}                                        # too short for a code
    )$""",
    re.VERBOSE,
)
_MORE_DIGITS_RE = re.compile(r"[ -]\d{2,4}(?![^\s.,;!?])")
_PHONE_RE = re.compile(r"(?:90|0)?5\d{9}")  # a Turkish mobile number, where a code was sent
_LOOKAHEAD_TOKENS = 4
_MAX_SECRET_CHARS = 64


def _fold(text: str) -> str:
    folded = text.translate(_TURKISH_FOLD).lower()
    return folded if len(folded) == len(text) else text.lower()


def _looks_secret(token: str) -> bool:
    """Digits, symbols or mixed case: how passwords and codes look, not words."""
    if any(ch.isdigit() for ch in token):
        return True
    if any(not ch.isalnum() and ch not in "-'’" for ch in token):
        return True
    return any(ch.isupper() for ch in token[1:]) and any(ch.islower() for ch in token)


def _previous_word(folded: str, start: int) -> str:
    words = re.findall(r"[\w-]+", folded[max(0, start - 30) : start])
    return words[-1] if words else ""


def _secret_value(text: str, folded: str, end: int) -> tuple[int, int] | None:
    """(start, end) of the secret the keyword ending at ``end`` introduces."""
    pos = end
    explicit = False
    for _ in range(_LOOKAHEAD_TOKENS):
        token_match = _TOKEN_RE.match(text, pos)
        if token_match is None:
            return None
        raw = token_match.group(2)
        explicit = explicit or token_match.group(1) is not None
        lead = len(raw) - len(raw.lstrip(_EDGE_PUNCT))
        core = raw.strip(_EDGE_PUNCT)
        start = token_match.start(2) + lead
        word = _fold(core)
        if not core or len(core) > _MAX_SECRET_CHARS:
            return None
        if word in _NOT_SECRETS or _NOT_A_SECRET_VALUE_RE.match(word):
            return None
        if word in _FILLERS and not (explicit and len(word) >= 3 and _looks_secret(core)):
            pos = token_match.end(2)
            if raw.endswith(":") or raw.endswith("="):
                explicit = True
            continue
        if not (_looks_secret(core) or (explicit and len(core) >= 3)):
            return None
        inflected = re.match(r"\d+(?=['’]\w+$)", core)  # "483920'dir": the digits
        stop = start + (inflected.end() if inflected else len(core))
        if core.isdigit():  # a code written in groups: "483 920"
            while (more := _MORE_DIGITS_RE.match(text, stop)) is not None:
                stop = more.end()
            if _PHONE_RE.fullmatch(re.sub(r"\D", "", text[start:stop])):
                return None
        return start, stop
    return None


def _mask_keyword_secrets(text: str) -> str:
    folded = _fold(text)
    out: list[str] = []
    pos = 0
    for keyword in _KEYWORD_RE.finditer(folded):
        if keyword.start() < pos:
            continue
        if keyword.group(0) in _CODE_WORDS and _previous_word(folded, keyword.start()) in _OTHER_CODES:
            continue
        span = _secret_value(text, folded, keyword.end())
        if span is None:
            continue
        start, stop = span
        if text[start:stop].startswith("*"):
            continue  # masked already
        out.append(text[pos:start])
        out.append(SECRET_MASK)
        pos = stop
    out.append(text[pos:])
    return "".join(out)


def mask_secrets(text: str) -> str:
    """Return ``text`` with card numbers, IBANs, passwords and codes masked."""
    if not text:
        return text
    masked = _mask_ibans(text)
    masked = _mask_cards(masked)
    return _mask_keyword_secrets(masked)
