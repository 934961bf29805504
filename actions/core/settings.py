"""Settings of the action server and the outbox worker, read once from the
environment (the Rasa server's own code reads bot/settings.py).

Every default runs on one machine with nothing installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from support_rules.retention import PURGE_AFTER_DAYS, PURGE_AFTER_DAYS_VARIABLE
from support_rules.triage import SUPPORT_TIMEZONE, TRANSACTION_MAX_AGE_DAYS, USERNAME_PATTERN

from .outbox import outbox_url

__all__ = ["Settings", "get_settings"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    handoff_url: str
    handoff_service_token: str | None
    handoff_timeout_seconds: float
    customer_token_secret: str | None
    catalogue_path: Path
    summary_schema_path: Path
    outbox_url: str  # SQLAlchemy URL; OUTBOX_PATH (a SQLite file) when OUTBOX_URL is not set
    username_pattern: str
    transaction_max_age_days: int
    timezone: str
    outbox_retry_seconds: float  # the outbox worker's pause between passes, and the first retry delay
    outbox_max_retry_seconds: float = 3600.0  # a failing handoff's delay doubles up to this
    purge_after_days: int = PURGE_AFTER_DAYS  # the outbox forgets every handoff older than this
    verification_path: Path = ROOT / "data" / "verification.yml"  # documents asked for on a verification topic

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            handoff_url=env.get("HANDOFF_URL", "http://127.0.0.1:8080").rstrip("/"),
            handoff_service_token=env.get("HANDOFF_SERVICE_TOKEN") or None,
            handoff_timeout_seconds=float(env.get("HANDOFF_TIMEOUT_SECONDS", "5")),
            customer_token_secret=env.get("CUSTOMER_TOKEN_SECRET") or None,
            catalogue_path=Path(env.get("CATALOGUE_PATH", ROOT / "data" / "catalogue.yml")),
            summary_schema_path=Path(env.get("SUMMARY_SCHEMA_PATH", ROOT / "schemas" / "handoff_summary.schema.json")),
            outbox_url=env.get("OUTBOX_URL") or outbox_url(env.get("OUTBOX_PATH", ROOT / "outbox.db")),
            username_pattern=env.get("USERNAME_PATTERN", USERNAME_PATTERN),
            transaction_max_age_days=int(env.get("TRANSACTION_MAX_AGE_DAYS", TRANSACTION_MAX_AGE_DAYS)),
            timezone=env.get("SUPPORT_TIMEZONE", SUPPORT_TIMEZONE),
            outbox_retry_seconds=float(env.get("OUTBOX_RETRY_SECONDS", "5")),
            outbox_max_retry_seconds=float(env.get("OUTBOX_MAX_RETRY_SECONDS", "3600")),
            purge_after_days=int(env.get(PURGE_AFTER_DAYS_VARIABLE) or PURGE_AFTER_DAYS),
            verification_path=Path(env.get("VERIFICATION_PATH", ROOT / "data" / "verification.yml")),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
