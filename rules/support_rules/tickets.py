"""Ticket numbers and statuses, as the bot and the handoff service both see them.

A ticket number is derived from the ticket's primary key (``T-000123``), so
there is nothing to keep in step between the two processes.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_TICKET_ID",
    "QUEUED",
    "ASSIGNED",
    "RESOLVED",
    "HANDED_BACK",
    "ABANDONED",
    "TICKET_STATUSES",
    "OPEN_STATUSES",
    "CLOSED_STATUSES",
    "HANDBACK_INTENT",
    "RESOLVED_INTENT",
    "CANCELLED_INTENT",
    "HANDBACK_INTENTS",
    "CANCEL_INTENT",
    "PRIORITIES",
    "PRIORITY_RANK",
    "TICKET_NUMBER_PATTERN",
    "is_clear_cancel",
    "format_ticket_number",
    "parse_ticket_number",
    "find_ticket_number",
]

QUEUED: Final = "queued"
ASSIGNED: Final = "assigned"
RESOLVED: Final = "resolved"
HANDED_BACK: Final = "handed_back"
ABANDONED: Final = "abandoned"

TICKET_STATUSES: Final = (QUEUED, ASSIGNED, RESOLVED, HANDED_BACK, ABANDONED)
OPEN_STATUSES: Final = (QUEUED, ASSIGNED)
CLOSED_STATUSES: Final = (RESOLVED, HANDED_BACK, ABANDONED)

# Intents only the handoff service triggers (never in NLU data) when it
# gives a conversation back to the bot: the agent handed it back, the agent
# resolved the ticket, or the customer cancelled while still in the queue.
HANDBACK_INTENT: Final = "agent_handed_back"
RESOLVED_INTENT: Final = "agent_resolved"
CANCELLED_INTENT: Final = "request_cancelled"
HANDBACK_INTENTS: Final = (HANDBACK_INTENT, RESOLVED_INTENT, CANCELLED_INTENT)

# The bot's intent for "never mind" (data/nlu/*/core.yml). While a ticket
# waits in the queue the handoff service reads it from Rasa's events (a
# paused conversation is still classified) and takes the customer out of
# the queue, but only for a short, confident "vazgeçtim" / "cancel it": a
# longer line ("kartımı iptal etmek istiyorum, çalındı") is a message for the
# agent, whatever its intent.
CANCEL_INTENT: Final = "cancel"
CANCEL_MIN_CONFIDENCE: Final = 0.8
CANCEL_MAX_WORDS: Final = 4

# Queue priorities, most urgent first (the summary schema's enum too).
PRIORITIES: Final = ("urgent", "high", "normal", "low")
PRIORITY_RANK: Final = {level: rank for rank, level in enumerate(PRIORITIES)}

_PREFIX = "T-"
_DIGITS = 6
# A formatted number as it appears in a text (an answer, a log line).
TICKET_NUMBER_PATTERN: Final = rf"{_PREFIX}\d{{{_DIGITS},}}"
# What customers write: "T-123", "t 000123", "T#123", "T123".
_WRITTEN_RE = re.compile(r"\b[Tt]\s*[-#]?\s*(\d{1,9})\b")
_MAX_NUMBER_LEN = 20
# The largest ticket id: the handoff service keys tickets with 32-bit signed
# integers (PostgreSQL's integer), so a larger number names no ticket.
MAX_TICKET_ID: Final = 2**31 - 1


def format_ticket_number(ticket_id: int) -> str:
    """``123`` -> ``"T-000123"``."""
    return f"{_PREFIX}{ticket_id:0{_DIGITS}d}"


def parse_ticket_number(number: str) -> int | None:
    """The ticket id for ``T-000123`` (any case), or None for anything else."""
    number = number.strip().upper()
    digits = number[len(_PREFIX) :]
    if not number.startswith(_PREFIX) or not digits.isascii() or not digits.isdigit():
        return None
    if len(number) > _MAX_NUMBER_LEN or int(digits) > MAX_TICKET_ID:
        return None
    return int(digits)


def find_ticket_number(text: str) -> str | None:
    """The first ticket number in a customer's words, formatted: "t 123" -> "T-000123"."""
    match = _WRITTEN_RE.search(text or "")
    return format_ticket_number(int(match.group(1))) if match else None


def is_clear_cancel(intent: str | None, confidence: float | None, text: str) -> bool:
    """A customer line that cancels their waiting request (see CANCEL_INTENT)."""
    return (
        intent == CANCEL_INTENT
        and confidence is not None
        and confidence >= CANCEL_MIN_CONFIDENCE
        and len(text.split()) <= CANCEL_MAX_WORDS
    )
