"""A durable outbox for handoffs the handoff service has not accepted yet.

A handoff is written here before it is posted, and marked delivered only
when the service answers with a ticket. Anything left undelivered (service
down, timeout, crash in between) is retried by the outbox worker; the
service's idempotency key makes a retry of an accepted post harmless.
SQLite by default: a file next to the action server, nothing to install.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

__all__ = ["Outbox", "PendingHandoff"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at REAL,
    receipt TEXT
)
"""


@dataclass(frozen=True)
class PendingHandoff:
    idempotency_key: str
    conversation_id: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=10, isolation_level=None)

    def add(self, key: str, conversation_id: str, payload: dict[str, Any]) -> None:
        """Keep a handoff; adding the same key twice keeps the first."""
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (idempotency_key, conversation_id, payload, created_at)"
                " VALUES (?, ?, ?, ?)",
                (key, conversation_id, json.dumps(payload, ensure_ascii=False), time.time()),
            )

    def mark_delivered(self, key: str, receipt: dict[str, Any]) -> None:
        with self._lock, self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ?, receipt = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE idempotency_key = ?",
                (time.time(), json.dumps(receipt), key),
            )

    def mark_failed(self, key: str, error: str) -> None:
        with self._lock, self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
                (error[:500], key),
            )

    def pending(self, limit: int = 100) -> list[PendingHandoff]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT idempotency_key, conversation_id, payload, attempts FROM outbox"
                " WHERE delivered_at IS NULL ORDER BY created_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [PendingHandoff(k, c, json.loads(p), a) for k, c, p, a in rows]

    def receipt(self, key: str) -> Optional[dict[str, Any]]:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT receipt FROM outbox WHERE idempotency_key = ? AND delivered_at IS NOT NULL",
                (key,),
            ).fetchone()
        return json.loads(row[0]) if row else None
