"""Delivers handoffs left in the outbox until the handoff service accepts them.

Run beside the action server: ``python -m actions.outbox_worker``. Each pass
takes the handoffs that are due (the longest due first); one the service
cannot take now waits a growing delay, one it refuses (4xx) becomes a dead
letter. Once an hour the worker deletes what is older than the purge age.

For a supervisor, on the action server's host:

- ``python -m actions.outbox_worker dead-letters``: the refused handoffs
  (handle, when, attempts, the service's answer, department and topic);
- ``python -m actions.outbox_worker retry HANDLE``: put one back in the
  queue once the cause is fixed;
- ``python -m actions.outbox_worker purge``: delete what is older than the
  purge age now.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from support_rules.retention import purge_cutoff

from .core.handoff_client import HandoffClient, HandoffRejected, HandoffUnavailable
from .core.outbox import Outbox, letter_handle
from .services import Services, default_services

logger = logging.getLogger(__name__)

__all__ = ["deliver_pending", "purge_old", "main"]

PURGE_EVERY_SECONDS = 3600.0


async def deliver_pending(outbox: Outbox, client: HandoffClient, now: float | None = None) -> int:
    """One pass over the handoffs due at ``now``; returns how many were delivered."""
    delivered = 0
    for item in outbox.pending(now=now):
        try:
            receipt = await client.create_handoff(item.payload, item.idempotency_key)
        except HandoffRejected as exc:
            outbox.mark_dead(item.idempotency_key, str(exc))
            logger.error(
                "handoff %s refused by the service, kept as a dead letter "
                "(python -m actions.outbox_worker dead-letters): %s",
                letter_handle(item.idempotency_key),
                exc,
            )
            continue
        except HandoffUnavailable as exc:
            outbox.mark_failed(item.idempotency_key, str(exc))
            logger.warning("handoff %s still pending: %s", letter_handle(item.idempotency_key), exc)
            continue
        outbox.mark_delivered(item.idempotency_key, receipt.__dict__)
        logger.info("handoff %s delivered as %s", letter_handle(item.idempotency_key), receipt.ticket_number)
        delivered += 1
    return delivered


def purge_old(outbox: Outbox, purge_after_days: int, now: float | None = None) -> int:
    """Delete every handoff older than the purge age; how many."""
    return outbox.purge(purge_cutoff(time.time() if now is None else now, purge_after_days))


async def _run_forever() -> None:
    services = default_services()
    interval = services.settings.outbox_retry_seconds
    next_purge = 0.0
    while True:
        try:
            if time.monotonic() >= next_purge:
                purged = purge_old(services.outbox, services.settings.purge_after_days)
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                if purged:
                    logger.info("outbox: %d handoff(s) older than the purge age deleted", purged)
            await deliver_pending(services.outbox, services.handoff_client)
        except Exception:  # keep retrying whatever happens to one pass
            logger.exception("outbox pass failed")
        await asyncio.sleep(interval)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _dead_letters(outbox: Outbox) -> int:
    letters = outbox.dead_letters(limit=1000)
    if not letters:
        print("no dead letters")
        return 0
    print(f"{len(letters)} dead letter(s): refused by the handoff service, not retried")
    for letter in letters:
        print(
            f"{letter.handle}  created {_when(letter.created_at)}  refused {_when(letter.dead_at)}  "
            f"attempts {letter.attempts}  {letter.department or '-'}/{letter.topic or '-'}  {letter.error}"
        )
    print("retry one with: python -m actions.outbox_worker retry HANDLE")
    return 0


def main(argv: Sequence[str] | None = None, services: Services | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.outbox_worker")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="deliver the outbox until stopped (the default)")
    sub.add_parser("dead-letters", help="list the handoffs the service refused")
    retry = sub.add_parser("retry", help="put a dead letter back in the queue")
    retry.add_argument("handle")
    sub.add_parser("purge", help="delete the handoffs older than the purge age")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    services = services or default_services()
    if args.command == "dead-letters":
        return _dead_letters(services.outbox)
    if args.command == "retry":
        if not services.outbox.retry(args.handle):
            print(f"no dead letter {args.handle}", file=sys.stderr)
            return 1
        print(f"{args.handle} is back in the queue")
        return 0
    if args.command == "purge":
        purged = purge_old(services.outbox, services.settings.purge_after_days)
        print(f"deleted {purged} handoff(s) older than {services.settings.purge_after_days} days")
        return 0
    asyncio.run(_run_forever())
    return 0


if __name__ == "__main__":
    sys.exit(main())
