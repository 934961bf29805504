"""The handoff summary: the contract between the bot and the agents.

Built from plain values (no Rasa types), masked, then validated against
schemas/handoff_summary.schema.json, the file the handoff service validates
against too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from support_rules.catalogue import Entry
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from support_rules.language import fallback_language
from support_rules.limits import MAX_DESCRIPTION_CHARS
from support_rules.masking import mask_secrets
from support_rules.priority import PriorityRules, decide_priority

__all__ = ["TriageCase", "TranscriptLine", "build_summary", "validate_summary", "SummaryInvalid", "username_source"]

_MAX_TRANSCRIPT = 200
_MAX_TEXT = 4096


def username_source(verified: bool) -> str:
    """The summary's ``username_source`` (schemas/handoff_summary.schema.json)."""
    return USERNAME_VERIFIED if verified else USERNAME_TYPED


class SummaryInvalid(ValueError):
    pass


@dataclass(frozen=True)
class TranscriptLine:
    sender: str  # customer | bot | agent | system
    text: str
    timestamp: datetime


@dataclass
class TriageCase:
    conversation_id: str
    channel: str
    language: str
    username: str | None
    topic: Entry
    transaction_type: Entry | None
    transaction_date: date | None
    age_method: str  # birth_date | verified_token
    description: str
    today: date
    faq_tried: Sequence[str] = ()
    username_verified: bool = False  # the signed customer token names this username
    intents: Sequence[tuple[str, float]] = ()
    transcript: Sequence[TranscriptLine] = ()
    asked_for_human: bool = False
    contact_email: str | None = None  # from the web chat's pre-chat form, unverified
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def build_summary(case: TriageCase, *, priority_rules: PriorityRules) -> dict[str, Any]:
    description = mask_secrets(case.description)[:MAX_DESCRIPTION_CHARS]
    department = str(case.topic.department)  # the catalogue refuses a topic without one
    priority = decide_priority(
        description=description,
        department=department,
        topic_id=case.topic.id,
        transaction_date=case.transaction_date,
        today=case.today,
        faq_tried=len(case.faq_tried),
        asked_for_human=case.asked_for_human,
        rules=priority_rules,
    )
    lines = [line for line in case.transcript if line.text][-_MAX_TRANSCRIPT:]
    summary: dict[str, Any] = {
        "schema_version": 1,
        "ticket_number": None,
        "conversation_id": case.conversation_id,
        "channel": case.channel or "unknown",
        "language": fallback_language(case.language),
        "username": case.username,
        "username_source": None if case.username is None else username_source(case.username_verified),
        "topic": {"id": case.topic.id, "label": case.topic.label(case.language)},
        "department": department,
        "transaction_type": (
            {"id": case.transaction_type.id, "label": case.transaction_type.label(case.language)}
            if case.transaction_type
            else None
        ),
        "transaction_date": case.transaction_date.isoformat() if case.transaction_date else None,
        "age_check": {"result": "over_18", "method": case.age_method},
        "description": description,
        "faq_tried": [{"id": faq_id, "solved": False} for faq_id in dict.fromkeys(case.faq_tried)],
        "intents": [
            {"name": name, "confidence": round(min(max(float(conf), 0.0), 1.0), 4)}
            for name, conf in list(case.intents)[-50:]
        ],
        "priority": {"level": priority.level, "reason": priority.reason},
        "created_at": _iso(case.created_at),
        "transcript": [
            {"sender": line.sender, "text": mask_secrets(line.text)[:_MAX_TEXT], "timestamp": _iso(line.timestamp)}
            for line in lines
        ],
    }
    if case.contact_email:
        summary["contact_email"] = case.contact_email
    return summary


@lru_cache(maxsize=4)
def _validator(schema_path: str) -> Draft202012Validator:
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_summary(summary: dict[str, Any], schema_path: str | Path) -> None:
    errors = sorted(_validator(str(schema_path)).iter_errors(summary), key=lambda e: list(e.path))
    if errors:
        raise SummaryInvalid("; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors))
