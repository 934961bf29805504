"""Queue priority of a handoff, with the reason an agent can read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional

from .text import fold

__all__ = ["Priority", "decide_priority"]

_URGENT_WORDS = tuple(fold(w) for w in (
    "acil", "dolandır", "dolandir", "çalındı", "calindi", "hacklendi", "hack", "izinsiz",
    "yetkisiz", "urgent", "asap", "fraud", "scam", "stolen", "hacked", "unauthorized",
    "unauthorised",
))
_MONEY_DEPARTMENT = "finance"
_RECENT_DAYS = 3
_ACCESS_TOPICS = {"login", "account_locked", "two_factor"}


@dataclass(frozen=True)
class Priority:
    level: str  # urgent | high | normal | low
    reason: str


def decide_priority(
    *,
    description: str,
    department: str,
    topic_id: str,
    transaction_date: Optional[date],
    today: date,
    faq_tried: int = 0,
    asked_for_human: bool = False,
) -> Priority:
    """Rules, strongest first; the reason lists every rule that applied."""
    text = fold(description)
    reasons: list[str] = []
    level = "normal"
    if any(word in text for word in _URGENT_WORDS):
        level, reasons = "urgent", ["possible fraud or urgency in the customer's words"]
    recent_money = (
        department == _MONEY_DEPARTMENT
        and transaction_date is not None
        and (today - transaction_date).days <= _RECENT_DAYS
    )
    if recent_money:
        reasons.append(f"money transaction within {_RECENT_DAYS} days")
    if topic_id in _ACCESS_TOPICS:
        reasons.append("customer cannot use the account")
    if faq_tried:
        reasons.append("FAQ answer did not solve it")
    if asked_for_human:
        reasons.append("customer asked for a person")
    if level != "urgent" and (recent_money or topic_id in _ACCESS_TOPICS):
        level = "high"
    if level == "normal" and department == "other" and transaction_date is None and not faq_tried:
        level, reasons = "low", reasons + ["general question, no transaction"]
    return Priority(level, "; ".join(reasons) or "standard request")
