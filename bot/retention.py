"""Purges Rasa's own stores at the purge age: ``python -m bot.retention``.

Rasa keeps every conversation twice on this product's defaults: in the SQL
tracker store (``events`` of ``rasa_tracker.db``, or PostgreSQL in the
deployment) and in the SQL event broker's table (``events`` of
``events.db``), which the handoff service follows. Rasa deletes neither.
This job does, at the one age of every store (``HANDOFF_PURGE_AFTER_DAYS``,
``support_rules.retention``):

- tracker store: every event of a conversation whose last event is older
  than the age (a conversation is forgotten whole; a live one keeps its
  history, as Rasa needs it);
- SQL event broker: every row whose event is older than the age (a
  transport; the handoff service's copy has its own retention), read in id
  order, which is time order, up to the first batch with nothing to delete.

Why here and not in the handoff service: the stores are Rasa's (its
schema, its versions) and configured in the endpoints file Rasa reads
(``RASA_ENDPOINTS``, with its credentials); this job reads the same file
with Rasa's own reader and opens the stores with Rasa's own classes, so
the handoff service never needs the tracker store's credentials. A
RabbitMQ broker keeps nothing once the service has consumed it; in-memory
stores keep nothing across restarts; other tracker stores (Redis, Mongo,
DynamoDB) are reported and left to their own expiry settings.

``--every SECONDS`` repeats the purge (``make run`` starts it daily).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.settings import Settings, get_settings
from support_rules.retention import purge_cutoff

__all__ = ["RasaPurge", "purge_rasa_stores", "purge_tracker_store", "purge_broker_table", "main"]

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class RasaPurge:
    conversations: int  # tracker store: conversations forgotten
    tracker_events: int
    broker_rows: int
    notes: tuple[str, ...] = ()


def purge_tracker_store(engine: sa.engine.Engine, table: sa.Table, cutoff: float) -> tuple[int, int]:
    """(conversations, events) deleted from Rasa's SQL tracker store."""
    stale = sa.select(table.c.sender_id).group_by(table.c.sender_id).having(sa.func.max(table.c.timestamp) < cutoff)
    with engine.begin() as conn:
        senders = [row[0] for row in conn.execute(stale)]
        events = 0
        for start in range(0, len(senders), 500):
            chunk = senders[start : start + 500]
            events += int(conn.execute(table.delete().where(table.c.sender_id.in_(chunk))).rowcount or 0)
    return len(senders), events


def _event_time(data: str | None) -> float | None:
    try:
        value = json.loads(data or "").get("timestamp")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def purge_broker_table(engine: sa.engine.Engine, table: sa.Table, cutoff: float) -> int:
    """Rows deleted from Rasa's SQL event broker table: those whose event is
    older than ``cutoff``, oldest id first, until a batch has none (rows
    are appended as events happen). A row without a readable time is
    deleted with the older rows around it."""
    deleted, after = 0, 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(table.c.id, table.c.data).where(table.c.id > after).order_by(table.c.id).limit(BATCH)
            ).all()
            if not rows:
                return deleted
            old = []
            for row_id, data in rows:
                when = _event_time(data)
                if when is not None and when >= cutoff:
                    break
                old.append(row_id)
            if old:
                deleted += int(conn.execute(table.delete().where(table.c.id.in_(old))).rowcount or 0)
        if len(old) < len(rows):
            return deleted
        after = rows[-1][0]


async def purge_rasa_stores(endpoints_path: str | Path, purge_after_days: int, now: float | None = None) -> RasaPurge:
    """Purge the tracker store and the event broker configured in ``endpoints_path``."""
    from rasa.core.brokers.broker import EventBroker
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    cutoff = purge_cutoff(time.time() if now is None else now, purge_after_days)
    notes: list[str] = []
    conversations = tracker_events = broker_rows = 0

    tracker_config = read_endpoint_config(str(endpoints_path), "tracker_store")
    if tracker_config is not None:
        store = TrackerStore.create(tracker_config)
        store = getattr(store, "_tracker_store", store)  # unwrapped from Rasa's awaitable wrapper
        if isinstance(store, SQLTrackerStore):
            try:
                conversations, tracker_events = purge_tracker_store(
                    store.engine,
                    store.SQLEvent.__table__,
                    cutoff,
                )
            finally:
                store.engine.dispose()
        elif not isinstance(store, InMemoryTrackerStore):
            notes.append(f"tracker store {tracker_config.type!r} left to its own expiry")

    broker_config = read_endpoint_config(str(endpoints_path), "event_broker")
    if broker_config is not None and str(broker_config.type).lower() == "sql":
        broker = await EventBroker.create(broker_config)
        if isinstance(broker, SQLEventBroker):
            try:
                broker_rows = purge_broker_table(
                    broker.engine,
                    broker.SQLBrokerEvent.__table__,
                    cutoff,
                )
            finally:
                broker.engine.dispose()
    elif broker_config is not None:
        notes.append(f"event broker {broker_config.type!r} keeps nothing once consumed")
    return RasaPurge(conversations, tracker_events, broker_rows, tuple(notes))


def _report(result: RasaPurge, days: int) -> str:
    lines = [
        f"forgot {result.conversations} conversation(s) ({result.tracker_events} tracker event(s)) "
        f"and {result.broker_rows} event broker row(s) older than {days} days"
    ]
    return "\n".join(lines + list(result.notes))


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.retention")
    parser.add_argument("--every", type=float, default=0, help="repeat every SECONDS (0: once)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = settings or get_settings()
    days = settings.purge_after_days
    while True:
        try:
            result = asyncio.run(purge_rasa_stores(settings.endpoints_path, days))
            print(_report(result, days), flush=True)
        except Exception:
            if not args.every:
                raise
            log.exception("purge of Rasa's stores failed; trying again in %s s", args.every)
        if not args.every:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
