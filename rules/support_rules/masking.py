"""Masking of secrets customers (and agents) type into a chat.

``mask_secrets`` is the one function every process applies before text is
stored, posted or shown (the bot's tracker store, the summary, every text
the handoff service stores or shows). It replaces:

- payment card numbers, however they are written (spaces, double spaces,
  dashes, dots, line breaks, digit by digit, glued to a word:
  ``kartno4111111111111111``) when the number is a card (an issuer's prefix
  and the Luhn check), when it is grouped the way cards are printed (four
  groups of four), or when a card word comes just before it; a card given
  in two halves in a text about a card. Order and ticket numbers, phone
  numbers, dates and amounts do not pass those checks and stay readable.
  The masked form keeps the last four digits: ``**** **** **** 1111``;
- card expiry dates after their keyword ("SKT 12/27", "exp 0729"): ``**/**``;
- IBANs with spaces, dashes or dots, in either case, glued to a word: the
  country's IBAN length and the mod-97 check (or, for an all-digit account
  part written as an IBAN, the length alone) decide; ``TR33 **** **** 1326``;
- passwords, one-time codes, PINs and card security codes (``CVV2 123``)
  introduced by a keyword: the value after the keyword (and a few filler
  words such as "kodum", "is", "şu") becomes ``******``. A value is a
  secret when it holds a digit or a symbol, or follows ``:`` or ``=``;
  ordinary words ("şifremi unuttum", "the code is wrong"), dates, times,
  amounts, durations, phone and ticket numbers after a keyword are not.
  In a text about a password, anything shaped like one (8+ characters of
  three kinds: "BlueFish#88") is masked wherever it stands.

Masking a masked text again changes nothing.
"""

from __future__ import annotations

import re

__all__ = ["luhn_valid", "iban_valid", "mask_secrets", "mask_card_number", "SECRET_MASK"]

SECRET_MASK = "******"

# --- card numbers -----------------------------------------------------------

# Digits with at most a short separator between any two: 1-2 spaces, or a
# dash or dot with optional spaces around it. Only digits may not touch the
# run, so a number glued to a word ("kartno4111...") is still a run.
_SEP = r"(?:[ \t]{1,2}|[ \t]?\r?\n[ \t]?|[ \t]?[-.][ \t]?)"
_DIGIT_RUN_RE = re.compile(rf"(?<!\d)\d(?:{_SEP}?\d){{12,}}(?!\d)")
_GROUP_RE = re.compile(r"\d+")
# A card word shortly before a number makes it a card even when the
# customer mistyped a digit (the rest would still leak).
_CARD_WORD_RE = re.compile(
    r"(?:kart|card|visa|mastercard|master card|amex|troy|maestro|debit|credit|kredi)", re.IGNORECASE
)
_CARD_WORD_REACH = 30
# A card split in two: groups of 4-12 digits, in a text about a card.
_HALF_RE = re.compile(r"(?<!\d)\d{4,12}(?:[ \t]\d{4,8})?(?!\d)")
_CARD_CONTEXT_RE = re.compile(r"kart|card|hane|half|digits|rakam", re.IGNORECASE)
_HALF_GAP = 40


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    odd = digits[-1::-2]
    even = digits[-2::-2]
    return (sum(map(int, odd)) + sum(_LUHN_DOUBLED[int(ch)] for ch in even)) % 10 == 0


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _issuer_lengths(digits: str) -> range | tuple[int, ...]:
    """The lengths of the cards whose issuer's prefix (IIN) ``digits`` starts
    with (at least four digits): Visa, Mastercard, Amex, Diners, JCB,
    Discover, UnionPay, Maestro, Troy; none for any other prefix."""
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return (16,)
    if p2 in (34, 37):
        return (15,)
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return range(14, 20)
    if 3528 <= p4 <= 3589:
        return range(16, 20)
    if p2 == 50 or 56 <= p2 <= 69:  # Maestro, Discover, UnionPay
        return range(13, 20)
    if p4 == 9792:  # Troy
        return (16,)
    return ()


def mask_card_number(digits: str) -> str:
    """Keep the last four digits, the way receipts do."""
    return "**** **** **** " + digits[-4:]


def _printed_like_a_card(text: str, groups: list[re.Match[str]]) -> bool:
    """Four groups of four digits with one kind of separator."""
    if any(len(g.group(0)) != 4 for g in groups):
        return False
    kinds = {_separator_kind(text[a.end() : b.start()]) for a, b in zip(groups, groups[1:], strict=False)}
    return len(kinds) == 1


def _card_at(
    text: str, groups: list[re.Match[str]], first: int, near_card_word: bool, *, mixed: bool = False
) -> tuple[int, str] | None:
    """(index of the last group, digits) of a card starting at group ``first``;
    with ``mixed`` (separators of several kinds) only a number that passes
    the card checks."""
    digits = ""
    lengths: range | tuple[int, ...] | None = None
    for last in range(first, min(len(groups), first + 19)):
        digits += groups[last].group(0)
        if len(digits) > 19:
            return None
        if lengths is None and len(digits) >= 4:
            lengths = _issuer_lengths(digits)
            if not lengths and not near_card_word and (mixed or len(groups[first].group(0)) != 4):
                return None  # no issuer's prefix and not printed like a card: nothing to find
        if len(digits) < 13:
            continue
        if len(digits) in (lengths or ()) and luhn_valid(digits):
            return last, digits
        if mixed:
            continue
        if near_card_word or (last - first == 3 and _printed_like_a_card(text, groups[first : last + 1])):
            return last, digits
    return None


def _separator_kind(separator: str) -> str:
    return separator.strip() or " "


def _uniform_runs(text: str, groups: list[re.Match[str]]) -> list[list[re.Match[str]]]:
    """``groups`` split where the separator changes: a card is mostly written
    with one kind of separator, so in "12.11.2026 4111 1111 1111 1111" the
    date and the card are apart."""
    parts: list[list[re.Match[str]]] = []
    kind = None
    for group in groups:
        if parts:
            link = _separator_kind(text[parts[-1][-1].end() : group.start()])
            if kind is None or link == kind:
                kind = link
                parts[-1].append(group)
                continue
        parts.append([group])
        kind = None
    return parts


def _split_cards(text: str) -> list[list[re.Match[str]]]:
    """A card given in two halves ("first half is 55555555 and the second
    half is 55554444", "ilk 8 hane 5406 6708 son 8 hane 3016 6137"): in a
    text about a card, two numbers close together that pass the card checks
    together."""
    if not _CARD_CONTEXT_RE.search(text):
        return []
    halves = [list(_GROUP_RE.finditer(text, m.start(), m.end())) for m in _HALF_RE.finditer(text)]
    found = []
    for first, second in zip(halves, halves[1:], strict=False):
        digits = "".join(g.group(0) for g in first + second)
        gap = text[first[-1].end() : second[0].start()]
        if (
            3 < len(gap) <= _HALF_GAP
            and 13 <= len(digits) <= 19
            and luhn_valid(digits)
            and len(digits) in _issuer_lengths(digits)
        ):
            found.append(first + second)
    return found


def _cards_in_run(text: str, groups: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """(start, end, digits) of the cards in one run of digit groups."""
    before = text[max(0, groups[0].start() - _CARD_WORD_REACH) : groups[0].start()]
    near = _CARD_WORD_RE.search(before) is not None
    spans: list[tuple[int, int, str]] = []
    rest = groups
    whole = _card_at(text, groups, 0, near, mixed=True)
    if whole is not None:
        spans.append((groups[0].start(), groups[whole[0]].end(), whole[1]))
        rest = groups[whole[0] + 1 :]
    for part in _uniform_runs(text, rest):
        first = 0
        while first < len(part):
            found = _card_at(text, part, first, near and part[first] is groups[0])
            if found is None:
                first += 1
                continue
            spans.append((part[first].start(), part[found[0]].end(), found[1]))
            first = found[0] + 1
    return spans


def _mask_cards(text: str) -> str:
    """Every card number, masked; a card starts and ends at a group boundary."""
    replacements: list[tuple[int, int, str]] = []
    for run in _DIGIT_RUN_RE.finditer(text):
        groups = list(_GROUP_RE.finditer(text, run.start(), run.end()))
        replacements += [(start, end, mask_card_number(digits)) for start, end, digits in _cards_in_run(text, groups)]
    for groups in _split_cards(text):
        replacements += [(g.start(), g.end(), "****") for g in groups]
    out: list[str] = []
    pos = 0
    for start, end, masked in sorted(replacements):
        if start < pos:
            continue  # inside a card already masked
        out.append(text[pos:start])
        out.append(masked)
        pos = end
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
_IBAN_RE = re.compile(r"(?<!\d)([A-Za-z]{2} ?\d{2}(?:(?:[ \t]{1,2}|[ \t]?[-.][ \t]?)?[A-Za-z0-9]){10,32})")
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
_PASSWORD_WORDS = (
    "sifremizi|sifremiz|sifreniz|sifresini|sifresi|sifremi|sifrem|sifre|parolasi|parolami|parolam|parola|"
    "passwords|password|passwd|passcode|passphrase|pwd|pw|pass"
)
# Keywords, folded (Turkish letters to ASCII, lower case); longer forms first.
_SECRET_WORDS = f"{_PASSWORD_WORDS}|kodumuz|kodumu|kodum|kodunu|kodu|kod|codes|code|otp|pin|cvv2|cvc2|cvv|cvc|cvn|cid"
# A keyword is a whole word, though digits may touch it ("kodum483920",
# "cvv2 123") and a suffix may follow an apostrophe ("PIN'im", "cvv'si",
# "password's"): "kodunuzu", "şifrenizi" or "passport" are other words.
_KEYWORD_RE = re.compile(rf"(?<![^\W\d_])(?:{_SECRET_WORDS})(?:['’][^\W\d_]{{1,4}})?(?![^\W\d_])")
_PASSWORD_RE = re.compile(rf"(?<![^\W\d_])(?:{_PASSWORD_WORDS})(?![^\W\d_])")
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
# Words that may stand between a keyword and its value (a value must look
# like a secret, so skipping a word never turns a word into a secret).
_FILLERS = {
    "is", "was", "are", "am", "su", "sudur", "olarak", "da", "de", "hala", "halen", "still", "now", "simdi",
    "artik", "yeni", "new", "my", "the", "numaram", "numarasi", "numarasini", "number", "no", "kodum", "kodu",
    "kod", "code", "bu", "this", "here", "its", "it's", "ise", "olan", "diye", "geldi", "gelen", "gonderilen",
    "sent", "received", "i", "got", "get", "as", "to", "ile", "kartin", "kart", "card", "sifre", "sifrem",
    "sifresi", "one-time", "tek", "kullanimlik", "on", "back", "arkasindaki", "arkadaki", "digit", "digits",
    "haneli", "from", "email", "e-mail", "mail", "sms", "smsle", "via", "by", "in", "yaziyorum", "giriyorum",
    "girdim", "yazdim", "entered", "typed", "enter", "type", "use", "used", "kullandim", "kullaniyorum",
    "current", "mevcut", "eski", "old",
}  # fmt: skip
# Words after a keyword that say something about the secret, not what it is.
_NOT_SECRETS = {
    "gelmedi", "gelmiyor", "gelmiyo", "yok", "calismiyor", "calismadi", "hatali", "yanlis", "unuttum",
    "sifirlama", "sifirla", "sifirlamak", "reset", "not", "doesn't", "doesnt", "isn't", "didn't", "never",
    "arrive", "arriving", "does", "nasil", "degistirmek", "degistirdim", "degistir", "change", "changed",
    "forgot", "for", "and", "istiyorum", "lazim", "icin", "expired", "wrong", "invalid", "incorrect",
    "gecersiz", "dogru", "correct", "kabul", "edilmiyor", "onaylanmadi", "sorunu", "problem", "issue",
    "field", "alani", "ekrani", "screen", "link", "linki", "baglantisi", "mesaj", "message", "gelir",
    "gelecek", "hangi", "which", "what", "ne", "neden", "why", "nerede", "where", "where's", "ekranda",
    "istiyor", "istedi", "soruyor", "asks", "asked", "required", "gerekli", "talep", "request", "requested",
    "tekrar", "again", "bekliyorum", "waiting", "giremiyorum", "var", "there", "dogrulama", "verification",
}  # fmt: skip
_TOKEN_RE = re.compile(r"[ \t]*([:=]|->|=>|-)?[ \t]*([^\s,;]+)")
_EDGE_PUNCT = ".,;:!?)(\"'«»“”‘’[]"
_NOT_A_SECRET_VALUE_RE = re.compile(
    r"""^(?:
        \d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?('\w+)?      # a date
      | \d{1,2}:\d{2}('\w+)?                           # a time
      | \d+(?:[.,]\d+)?(?:tl|try|usd|eur|gbp|\$|€|£|₺|lira|dk|dakika|min|mins|minutes|sn|saniye|sec|saat|h|gun|days?|kez|kere|times|x)('\w+)?
      | \d{1,2}['’]\w+                                 # an inflected number (12'de)
      | (?:19|20)\d\d['’]\w+                          # an inflected year (2024'te)
      | \d+(?:st|nd|rd|th|\.)                          # an ordinal
      | t-\d+                                          # a ticket number
    )$""",
    re.VERBOSE,
)
_DIGIT_GROUP_RE = re.compile(r"[ \t]?-?[ \t]?(\d{1,4})(?![^\s.,;!?])")
_PHONE_RE = re.compile(r"(?:90|0)?5\d{9}")  # a Turkish mobile number, where a code was sent
_MIN_CODE_DIGITS = 3  # a card security code
_MAX_CODE_DIGITS = 8
_LOOKAHEAD_TOKENS = 6
_MAX_SECRET_CHARS = 64
# What a password looks like even far from its keyword: 8+ characters of
# at least three kinds (lower, upper, digit, symbol other than _ . - @).
_PASSWORD_SHAPE_RE = re.compile(r"(?<!\S)['\"“‘(]?([^\s'\"”’,;()]{8,64})")


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


def _password_shaped(token: str) -> bool:
    kinds = (
        any(ch.islower() for ch in token),
        any(ch.isupper() for ch in token),
        any(ch.isdigit() for ch in token),
        any(not ch.isalnum() and ch not in "_.-@/:" for ch in token),
    )
    return sum(kinds) >= 3 and "@" not in token and "://" not in token


def _previous_word(folded: str, start: int) -> str:
    words = re.findall(r"[\w-]+", folded[max(0, start - 30) : start])
    return words[-1] if words else ""


def _digit_code(text: str, start: int, digits: str = "") -> tuple[int, str]:
    """End and digits of a code written in groups from ``start``: "483 920",
    "55 81 27", "3 9 1 8 4 0"; ``digits`` are those already read before it."""
    pos = start
    while len(digits) <= _MAX_CODE_DIGITS and (group := _DIGIT_GROUP_RE.match(text, pos)) is not None:
        if digits and group.start(1) == pos:
            break  # a group must be separated from the one before
        digits += group.group(1)
        pos = group.end(1)
    return pos, digits


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
        if core.startswith("*"):
            return None  # masked already
        if not any(ch.isalnum() for ch in core):  # "->", "—", ":"
            explicit = explicit or bool(core) or ":" in raw or "=" in raw
            pos = token_match.end(2)
            continue
        if len(core) > _MAX_SECRET_CHARS or word in _NOT_SECRETS or _NOT_A_SECRET_VALUE_RE.match(word):
            return None
        if core.isdigit() and len(core) <= 4:  # maybe the first group of a code
            stop, digits = _digit_code(text, start)
            if _MIN_CODE_DIGITS <= len(digits) <= _MAX_CODE_DIGITS:
                return start, stop
            return None  # too short for a code, or longer: a phone number
        if word in _FILLERS:
            pos = token_match.end(2)
            explicit = explicit or raw.endswith((":", "="))
            continue
        if not (_looks_secret(core) or (explicit and len(core) >= 3)):
            return None
        inflected = re.match(r"\d+(?=['’]\w+$)", core)  # "483920'dir": the digits
        stop = start + (inflected.end() if inflected else len(core))
        if core.isdigit():
            stop, digits = _digit_code(text, stop, core)
            if len(digits) > _MAX_CODE_DIGITS or _PHONE_RE.fullmatch(digits):
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
        name = re.sub(r"['’].*", "", keyword.group(0))
        if name in _CODE_WORDS and _previous_word(folded, keyword.start()) in _OTHER_CODES:
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


def _mask_password_shapes(text: str) -> str:
    """In a line about a password, anything shaped like one: "şifremi
    değiştirdim: yeniSifre!42", "the password i set was 'BlueFish#88'"."""
    if _PASSWORD_RE.search(_fold(text)) is None:
        return text

    def mask(match: re.Match[str]) -> str:
        token = match.group(1).rstrip(".!?:")
        if "**" in token or not _password_shaped(token):
            return match.group(0)
        return match.group(0).replace(token, SECRET_MASK, 1)

    return _PASSWORD_SHAPE_RE.sub(mask, text)


# --- card expiry dates --------------------------------------------------------

_EXPIRY_RE = re.compile(
    r"""(?P<word>(?<![^\W\d_])(?:skt|s\.k\.t\.?|son[ \t]+kul(?:lanma|lanim|\.)?(?:[ \t]+tarihi)?|
        exp|expiry|expires|expiring|expiration(?:[ \t]+date)?|valid[ \t]+(?:thru|through|until)|
        gecerlilik(?:[ \t]+tarihi)?|ge\u00e7erlilik(?:[ \t]+tarihi)?)(?:[ \t]*[:=\-]|[ \t]+is)?[ \t]*\(?)
        (?P<value>(?:0?[1-9]|1[0-2])[ \t]?[/.\-][ \t]?(?:20)?\d\d|(?:0[1-9]|1[0-2])(?:20)?\d\d)(?!\d)""",
    re.IGNORECASE | re.VERBOSE,
)


def _mask_expiry(text: str) -> str:
    return _EXPIRY_RE.sub(lambda m: m.group("word") + "**/**", text)


_DIGIT_RE = re.compile(r"\d")
_MIN_CARD_DIGITS = 13
_MIN_IBAN_DIGITS = 4  # every country's IBAN has more


def mask_secrets(text: str) -> str:
    """Return ``text`` with card numbers, IBANs, passwords and codes masked."""
    if not text:
        return text
    digits = len(_DIGIT_RE.findall(text))
    masked = text
    if digits >= _MIN_IBAN_DIGITS:  # most chat lines have none: skip what needs them
        masked = _mask_ibans(masked)
        masked = _mask_expiry(masked)
    if digits >= _MIN_CARD_DIGITS:
        masked = _mask_cards(masked)
    masked = _mask_keyword_secrets(masked)
    return _mask_password_shapes(masked)
