"""Delivers handoffs left in the outbox until the handoff service accepts them.

Run beside the action server: ``python -m actions.outbox_worker``.
"""

from __future__ import annotations

import asyncio
import logging

from .core.handoff_client import HandoffClient, HandoffError
from .core.outbox import Outbox
from .services import default_services

logger = logging.getLogger(__name__)

__all__ = ["deliver_pending", "main"]


async def deliver_pending(outbox: Outbox, client: HandoffClient) -> int:
    """One pass over the outbox; returns how many were delivered."""
    delivered = 0
    for item in outbox.pending():
        try:
            receipt = await client.create_handoff(item.payload, item.idempotency_key)
        except HandoffError as exc:
            outbox.mark_failed(item.idempotency_key, str(exc))
            logger.warning("handoff %s still pending: %s", item.idempotency_key, exc)
            continue
        outbox.mark_delivered(item.idempotency_key, receipt.__dict__)
        logger.info("handoff %s delivered as %s", item.idempotency_key, receipt.ticket_number)
        delivered += 1
    return delivered


async def _run_forever() -> None:
    services = default_services()
    interval = services.settings.outbox_retry_seconds
    while True:
        try:
            await deliver_pending(services.outbox, services.handoff_client)
        except Exception:  # keep retrying whatever happens to one pass
            logger.exception("outbox pass failed")
        await asyncio.sleep(interval)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_run_forever())


if __name__ == "__main__":
    main()
