"""Builders for valid handoff summaries."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timezone
from typing import Any

DEPARTMENT_TOPIC = {"finance": "deposit", "account": "password", "technical": "login", "other": "other"}
# topics of each department (data/catalogue.yml) for tests that give one
# customer several open requests: one request per problem joins a second
# request on the same topic to the first (handoff.services.contacts)
DEPARTMENT_TOPICS = {
    "finance": ("deposit", "withdrawal", "promotion", "bet_settlement", "payment_methods"),
    "account": ("password", "two_factor", "account_locked", "contact_details", "account_closure"),
    "technical": ("login", "app"),
    "other": ("other",),
}
_next_topic = itertools.count()


def distinct_topic(department: str) -> dict[str, str]:
    """A topic of ``department`` other than the last few handed out."""
    topics = DEPARTMENT_TOPICS[department]
    topic = topics[next(_next_topic) % len(topics)]
    return {"id": topic, "label": topic}


def summary(
    department: str = "finance", *, priority: str = "normal", conversation_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    now = datetime.now(timezone.utc).isoformat()
    data: dict[str, Any] = {
        "schema_version": 1,
        "conversation_id": conversation_id or f"conv-{uuid.uuid4().hex[:12]}",
        "channel": "socketio",
        "language": "tr",
        "username": "musteri_42",
        "topic": {"id": DEPARTMENT_TOPIC[department], "label": "Para yatırma"},
        "department": department,
        "transaction_type": {"id": "deposit", "label": "Para yatırma"},
        "transaction_date": "2026-11-20",
        "age_check": {"result": "over_18", "method": "birth_date"},
        "description": "Dün yatırdığım para hesabıma yansımadı.",
        "faq_tried": [{"id": "deposit_delay", "solved": False}],
        "intents": [{"name": "deposit_problem", "confidence": 0.91}],
        "priority": {"level": priority, "reason": "money not credited"},
        "created_at": now,
        "transcript": [
            {"sender": "customer", "text": "Merhaba, param yansımadı", "timestamp": now},
            {"sender": "bot", "text": "Sizi bir temsilciye aktarıyorum.", "timestamp": now},
        ],
    }
    data.update(overrides)
    return data
