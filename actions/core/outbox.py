"""A durable outbox for handoffs the handoff service has not accepted yet.

A handoff is written here before it is posted, and marked delivered only
when the service answers with a ticket. Anything left undelivered (service
down, timeout, crash in between) is retried by the outbox worker; the
service's idempotency key makes a retry of an accepted post harmless.

Where it is kept is a SQLAlchemy URL (``OUTBOX_URL``). The default is a
SQLite file next to the action server (``OUTBOX_PATH``): nothing to
install. With several action servers on several hosts it is PostgreSQL,
so every replica and every outbox worker sees every pending handoff.

A handoff the service refuses (4xx: retrying will not help) becomes a dead
letter: kept, out of the queue, listed for a supervisor by
``python -m actions.outbox_worker dead-letters`` and put back by
``... retry HANDLE``. One that fails otherwise is tried again after a
growing delay, and the worker takes what is due first (by next attempt
time, not by age), so a few failing handoffs never hold up newer ones.
Every row, whatever its state, is deleted at the purge age
(``support_rules.retention``).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["Outbox", "PendingHandoff", "DeadLetter", "outbox_url", "retry_delay", "letter_handle"]

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
    # when the worker may try again (growing delays); NULL in rows of an
    # older outbox: due at once
    sa.Column("next_attempt_at", sa.Float),
    # refused by the service (4xx): out of the queue until a supervisor retries it
    sa.Column("dead_at", sa.Float),
)
sa.Index("outbox_pending", _outbox.c.delivered_at, _outbox.c.created_at)
sa.Index("outbox_due", _outbox.c.delivered_at, _outbox.c.dead_at, _outbox.c.next_attempt_at)
# columns added after the first release: added to an existing table on open
_ADDED = ("next_attempt_at", "dead_at")


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling
    from ``base_seconds``, at most ``max_seconds``."""
    return float(min(max_seconds, base_seconds * 2 ** min(max(attempts - 1, 0), 30)))


def letter_handle(key: str) -> str:
    """A short name for a dead letter (the key holds the conversation id,
    which is not shown)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


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


@dataclass(frozen=True)
class DeadLetter:
    """What a supervisor sees of a refused handoff."""

    handle: str
    created_at: float
    dead_at: float
    attempts: int
    error: str
    department: str | None
    topic: str | None


class Outbox:
    def __init__(self, location: str | Path, *, retry_seconds: float = 5.0, max_retry_seconds: float = 3600.0) -> None:
        """``location``: a SQLAlchemy URL (sqlite, postgresql) or a SQLite file path;
        failed deliveries wait ``retry_seconds``, doubling up to ``max_retry_seconds``."""
        self._retry = (retry_seconds, max_retry_seconds)
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
            _add_missing_columns(conn)

    def _insert(self) -> Any:
        return (sqlite.insert if self._sqlite else postgresql.insert)(_outbox)

    def add(self, key: str, conversation_id: str, payload: dict[str, Any]) -> None:
        """Keep a handoff; adding the same key twice keeps the first."""
        now = time.time()
        statement = (
            self._insert()
            .values(
                idempotency_key=key,
                conversation_id=conversation_id,
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
                next_attempt_at=now,
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
        """Not delivered this time: try again after a growing delay."""
        now = time.time()
        with self._engine.begin() as conn:
            attempts = conn.execute(
                sa.select(_outbox.c.attempts).where(_outbox.c.idempotency_key == key)
            ).scalar_one_or_none()
            if attempts is None:
                return
            conn.execute(
                _outbox.update()
                .where(_outbox.c.idempotency_key == key)
                .values(
                    attempts=_outbox.c.attempts + 1,
                    last_error=error[:500],
                    next_attempt_at=now + retry_delay(attempts + 1, *self._retry),
                )
            )

    def mark_dead(self, key: str, error: str) -> None:
        """Refused by the service: out of the queue, kept for a supervisor."""
        with self._engine.begin() as conn:
            conn.execute(
                _outbox.update()
                .where(_outbox.c.idempotency_key == key)
                .values(attempts=_outbox.c.attempts + 1, last_error=error[:500], dead_at=time.time())
            )

    def pending(self, limit: int = 100, now: float | None = None) -> list[PendingHandoff]:
        """Handoffs due now, the longest due first."""
        due = sa.func.coalesce(_outbox.c.next_attempt_at, _outbox.c.created_at)
        query = (
            sa.select(_outbox.c.idempotency_key, _outbox.c.conversation_id, _outbox.c.payload, _outbox.c.attempts)
            .where(_outbox.c.delivered_at.is_(None), _outbox.c.dead_at.is_(None), due <= (now or time.time()))
            .order_by(due, _outbox.c.created_at, _outbox.c.idempotency_key)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PendingHandoff(k, c, json.loads(p), a) for k, c, p, a in rows]

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        query = (
            sa.select(
                _outbox.c.idempotency_key,
                _outbox.c.payload,
                _outbox.c.created_at,
                _outbox.c.dead_at,
                _outbox.c.attempts,
                _outbox.c.last_error,
            )
            .where(_outbox.c.delivered_at.is_(None), _outbox.c.dead_at.is_not(None))
            .order_by(_outbox.c.dead_at, _outbox.c.idempotency_key)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        letters = []
        for key, payload, created, dead, attempts, error in rows:
            summary = json.loads(payload)
            topic = summary.get("topic") if isinstance(summary, dict) else None
            letters.append(
                DeadLetter(
                    handle=letter_handle(key),
                    created_at=created,
                    dead_at=dead,
                    attempts=attempts,
                    error=error or "",
                    department=summary.get("department") if isinstance(summary, dict) else None,
                    topic=topic.get("id") if isinstance(topic, dict) else None,
                )
            )
        return letters

    def retry(self, handle: str) -> bool:
        """Put a dead letter back in the queue (after the service or the
        summary was fixed); False when no dead letter has that handle."""
        with self._engine.begin() as conn:
            keys = conn.execute(
                sa.select(_outbox.c.idempotency_key).where(
                    _outbox.c.dead_at.is_not(None), _outbox.c.delivered_at.is_(None)
                )
            ).scalars()
            key = next((k for k in keys if letter_handle(k) == handle), None)
            if key is None:
                return False
            conn.execute(
                _outbox.update()
                .where(_outbox.c.idempotency_key == key)
                .values(dead_at=None, next_attempt_at=time.time())
            )
        return True

    def purge(self, before: float) -> int:
        """Delete every handoff created before ``before`` (epoch seconds),
        delivered, pending or dead: the purge age of every store."""
        with self._engine.begin() as conn:
            result = conn.execute(_outbox.delete().where(_outbox.c.created_at < before))
        return int(result.rowcount or 0)

    def receipt(self, key: str) -> dict[str, Any] | None:
        query = sa.select(_outbox.c.receipt).where(
            _outbox.c.idempotency_key == key, _outbox.c.delivered_at.is_not(None)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        self._engine.dispose()


def _add_missing_columns(conn: sa.engine.Connection) -> None:
    """An outbox created by an older release gets the columns added since."""
    present = {column["name"] for column in sa.inspect(conn).get_columns("outbox")}
    for name in _ADDED:
        if name not in present:
            kind = _outbox.c[name].type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")
    for index in _outbox.indexes:
        index.create(conn, checkfirst=True)


def _sqlite_wal(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
