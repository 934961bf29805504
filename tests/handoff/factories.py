"""Builders for valid handoff summaries."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

DEPARTMENT_TOPIC = {"finance": "deposit", "account": "password", "technical": "login", "other": "other"}


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
