"""Queue priority of a handoff, with the reason an agent can read.

The rules are code; what they name (urgent words, money departments,
account-access topics, general departments, how recent a transaction is) is
the editors', in the ``priority`` section of data/catalogue.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from support_rules.catalogue import Catalogue, load_catalogue
from support_rules.text import fold

__all__ = ["Priority", "PriorityRules", "decide_priority", "load_priority_rules"]


@dataclass(frozen=True)
class Priority:
    level: str  # urgent | high | normal | low
    reason: str


@dataclass(frozen=True)
class PriorityRules:
    urgent_words: tuple[str, ...]  # folded (support_rules.text.fold)
    money_departments: frozenset[str]
    recent_days: int
    account_access_topics: frozenset[str]
    general_departments: frozenset[str]

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> PriorityRules:
        """From the catalogue's ``priority`` section; every department or
        topic it names must be in the catalogue."""
        section = catalogue.section("priority")
        if not section:
            raise ValueError("the catalogue has no 'priority' section")
        words = section.get("urgent_words") or {}
        listed = [w for values in words.values() for w in values] if isinstance(words, dict) else list(words)
        rules = cls(
            urgent_words=tuple(dict.fromkeys(fold(str(w)) for w in listed if fold(str(w)))),
            money_departments=frozenset(section.get("money_departments") or ()),
            recent_days=int(section.get("recent_days", 0)),
            account_access_topics=frozenset(section.get("account_access_topics") or ()),
            general_departments=frozenset(section.get("general_departments") or ()),
        )
        departments = {d.id for d in catalogue.departments}
        topics = {t.id for t in catalogue.topics}
        unknown = sorted((rules.money_departments | rules.general_departments) - departments) + sorted(
            rules.account_access_topics - topics
        )
        if unknown:
            raise ValueError(f"the catalogue's 'priority' section names unknown ids: {', '.join(unknown)}")
        if not rules.urgent_words or rules.recent_days < 0:
            raise ValueError("the catalogue's 'priority' section needs urgent_words and a recent_days >= 0")
        return rules


@lru_cache(maxsize=4)
def load_priority_rules(path: Path) -> PriorityRules:
    return PriorityRules.from_catalogue(load_catalogue(path))


def decide_priority(
    *,
    description: str,
    department: str,
    topic_id: str,
    transaction_date: date | None,
    today: date,
    faq_tried: int = 0,
    asked_for_human: bool = False,
    rules: PriorityRules,
) -> Priority:
    """Rules, strongest first; the reason lists every rule that applied."""
    text = fold(description)
    reasons: list[str] = []
    level = "normal"
    if any(word in text for word in rules.urgent_words):
        level, reasons = "urgent", ["possible fraud or urgency in the customer's words"]
    recent_money = (
        department in rules.money_departments
        and transaction_date is not None
        and (today - transaction_date).days <= rules.recent_days
    )
    if recent_money:
        reasons.append(f"money transaction within {rules.recent_days} days")
    access = topic_id in rules.account_access_topics
    if access:
        reasons.append("customer cannot use the account")
    if faq_tried:
        reasons.append("FAQ answer did not solve it")
    if asked_for_human:
        reasons.append("customer asked for a person")
    if level != "urgent" and (recent_money or access):
        level = "high"
    if level == "normal" and department in rules.general_departments and transaction_date is None and not faq_tried:
        level, reasons = "low", reasons + ["general question, no transaction"]
    return Priority(level, "; ".join(reasons) or "standard request")
