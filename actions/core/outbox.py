"""A durable outbox for handoffs the handoff service has not accepted yet.

A handoff is written here before it is posted, and marked delivered only
when the service answers with a ticket. Anything left undelivered (service
down, timeout, crash in between) is retried by the outbox worker; the
service's idempotency key makes a retry of an accepted post harmless.

Where it is kept is a SQLAlchemy URL (``OUTBOX_URL``). The default is a
SQLite file next to the action server (``OUTBOX_PATH``): nothing to
install. With several action servers on several hosts it is PostgreSQL,
so every replica and every outbox worker sees every pending handoff.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["Outbox", "PendingHandoff", "outbox_url"]

_metadata = sa.MetaData()
_outbox = sa.Table(
    "outbox",
    _metadata,
    sa.Column("idempotency_key", sa.Text, primary_key=True),
    sa.Column("conversation_id", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", sa.Float),
    sa.Column("receipt", sa.Text),
)
sa.Index("outbox_pending", _outbox.c.delivered_at, _outbox.c.created_at)


def outbox_url(location: str | Path) -> str:
    """A SQLAlchemy URL as given, or a SQLite URL for a file path."""
    text = str(location)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


@dataclass(frozen=True)
class PendingHandoff:
    idempotency_key: str
    conversation_id: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    def __init__(self, location: str | Path) -> None:
        """``location``: a SQLAlchemy URL (sqlite, postgresql) or a SQLite file path."""
        url = outbox_url(location)
        self._sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"future": True}
        if self._sqlite:
            options["connect_args"] = {"timeout": 10}
        else:
            options.update(pool_pre_ping=True, pool_size=2, max_overflow=2)
        self._engine = sa.create_engine(url, **options)
        if self._sqlite:
            sa.event.listen(self._engine, "connect", _sqlite_wal)
        with self._engine.begin() as conn:
            if not self._sqlite:  # replicas starting together: one creates the table, the others wait
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('triage_outbox_schema'))")
            _metadata.create_all(conn, checkfirst=True)

    def _insert(self) -> Any:
        return (sqlite.insert if self._sqlite else postgresql.insert)(_outbox)

    def add(self, key: str, conversation_id: str, payload: dict[str, Any]) -> None:
        """Keep a handoff; adding the same key twice keeps the first."""
        statement = (
            self._insert()
            .values(
                idempotency_key=key,
                conversation_id=conversation_id,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=time.time(),
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        with self._engine.begin() as conn:
            conn.execute(statement)

    def mark_delivered(self, key: str, receipt: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                _outbox.update()
                .where(_outbox.c.idempotency_key == key)
                .values(
                    delivered_at=time.time(),
                    receipt=json.dumps(receipt),
                    attempts=_outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    def mark_failed(self, key: str, error: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                _outbox.update()
                .where(_outbox.c.idempotency_key == key)
                .values(
                    attempts=_outbox.c.attempts + 1,
                    last_error=error[:500],
                )
            )

    def pending(self, limit: int = 100) -> list[PendingHandoff]:
        query = (
            sa.select(_outbox.c.idempotency_key, _outbox.c.conversation_id, _outbox.c.payload, _outbox.c.attempts)
            .where(_outbox.c.delivered_at.is_(None))
            .order_by(_outbox.c.created_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PendingHandoff(k, c, json.loads(p), a) for k, c, p, a in rows]

    def receipt(self, key: str) -> dict[str, Any] | None:
        query = sa.select(_outbox.c.receipt).where(
            _outbox.c.idempotency_key == key, _outbox.c.delivered_at.is_not(None)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        self._engine.dispose()


def _sqlite_wal(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
