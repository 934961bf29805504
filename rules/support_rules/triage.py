"""Reading the triage form's values out of what the customer writes.

Three situations, one reader:
- the bot asked for a slot: the whole message is the answer, and a value
  that cannot be read comes back with the reason (so the bot can say it);
- a longer message (the first one, or a correction): every value found in
  it, without complaints about what is not there;
- the start of triage: everything the customer already said, so nothing
  is asked twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from support_rules.catalogue import Catalogue
from support_rules.dates import read_transaction_date
from support_rules.usernames import find_username

__all__ = [
    "TriageRules",
    "Reading",
    "read_answer",
    "read_mentions",
    "prefill",
    "TRIAGE_SLOTS",
    "USERNAME_PATTERN",
    "TRANSACTION_MAX_AGE_DAYS",
    "SUPPORT_TIMEZONE",
]

TRIAGE_SLOTS = ("topic", "transaction_type", "transaction_date", "username")

# Defaults both processes use (overridden by USERNAME_PATTERN,
# TRANSACTION_MAX_AGE_DAYS and SUPPORT_TIMEZONE in either one's environment).
# Platform usernames: 3-20 characters, a letter first, then letters, digits,
# "_" or ".".
USERNAME_PATTERN = r"[A-Za-z][A-Za-z0-9_.]{2,19}"
TRANSACTION_MAX_AGE_DAYS = 180
SUPPORT_TIMEZONE = "Europe/Istanbul"


@dataclass(frozen=True)
class TriageRules:
    catalogue: Catalogue
    today: date
    max_age_days: int
    username_pattern: str


@dataclass(frozen=True)
class Reading:
    """A slot value, or the reason it could not be read (``error``)."""

    value: str | None
    error: str | None = None


def read_answer(slot: str, text: str, rules: TriageRules) -> Reading:
    """The whole message answers the bot's question for ``slot``."""
    if slot == "topic":
        match = rules.catalogue.match_topic(text)
        return Reading(match.entry.id) if match else Reading(None, "unknown_topic")
    if slot == "transaction_type":
        match = rules.catalogue.match_transaction_type(text)
        return Reading(match.entry.id) if match else Reading(None, "unknown_transaction_type")
    if slot == "transaction_date":
        reading = read_transaction_date(text, rules.today, rules.max_age_days)
        if reading.value is None:
            return Reading(None, reading.error)
        return Reading(reading.value.isoformat())
    if slot == "username":
        name = find_username(text, rules.username_pattern, bare=True)
        return Reading(name) if name else Reading(None, "invalid_username")
    raise ValueError(f"not a triage slot: {slot}")


def read_mentions(text: str, rules: TriageRules) -> dict[str, str]:
    """Every triage value stated inside a longer message."""
    found: dict[str, str] = {}
    topic = rules.catalogue.match_topic(text, answer=False)
    if topic:
        found["topic"] = topic.entry.id
    kind = rules.catalogue.match_transaction_type(text, answer=False)
    if kind:
        found["transaction_type"] = kind.entry.id
    when = read_transaction_date(text, rules.today, rules.max_age_days)
    if when.value is not None:
        found["transaction_date"] = when.value.isoformat()
    name = find_username(text, rules.username_pattern, bare=False)
    if name:
        found["username"] = name
    return found


def prefill(texts: Iterable[str], faq_ids: Iterable[str], rules: TriageRules) -> dict[str, str]:
    """Values for the start of triage: an FAQ that did not help names the
    topic; after that, the earliest message that states a value wins."""
    values: dict[str, str] = {}
    for faq_id in faq_ids:
        topic = rules.catalogue.topic_for_faq(faq_id)
        if topic:
            values["topic"] = topic.id
            break
    for text in texts:
        for slot, value in read_mentions(text, rules).items():
            values.setdefault(slot, value)
    return values
