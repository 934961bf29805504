"""The relay worker: sends the queued mail (``outbound_mail``) through the
relay, in the background of every ``serve`` replica.

A row is leased before it is sent (handoff.repo.outbound_mail), so two
replicas never send the same row at once. The relay accepted it: the row
is ``sent`` and, when it carries an agent's reply, that message is
delivered and the consoles hear ``message.delivered``. The relay did not:
the attempt is counted, its reason kept (short, no secret) and the row
waits ``retry_delay`` (doubling, capped) before the next try; it is tried
until it leaves.

At least once, at the edge: a replica that stops after the relay accepted
a mail and before its commit leaves the row pending, and the mail is sent
again when the lease ends, with the same Message-ID (fixed at queue time),
which receivers and their mailboxes deduplicate. The desk itself never
sends a row twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import LiveBus, LiveUpdate
from handoff.mail.compose import compose
from handoff.mail.relay import Relay, RelayError
from handoff.models import OutboundMail, utcnow
from handoff.repo import messages as messages_repo
from handoff.repo import outbound_mail as outbound_repo
from handoff.repo import tickets as tickets_repo

__all__ = ["RelayWorker", "retry_delay", "DELIVERED"]

log = logging.getLogger("handoff.mail")

DELIVERED = "message.delivered"


def retry_delay(attempts: int, *, first_seconds: float, max_seconds: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: the
    first wait, doubled at each further failure, never more than the cap."""
    return min(max_seconds, first_seconds * 2 ** max(0, attempts - 1))


class RelayWorker:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        relay: Relay,
        from_address: str,
        display_names: Mapping[str, str] | None = None,
        bus: LiveBus | None = None,
        poll_seconds: float = 5.0,
        retry_seconds: float = 30.0,
        retry_max_seconds: float = 3600.0,
        send_timeout_seconds: float = 30.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._relay = relay
        self._from = from_address
        self._names = dict(display_names or {})
        self._bus = bus
        self._poll = poll_seconds
        self._retry = (retry_seconds, retry_max_seconds)
        # longer than a send can take: the relay client gives up at its timeout
        self._lease = timedelta(seconds=2 * send_timeout_seconds + 30)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for mail now (a reply was just queued on this replica)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                while await self.send_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("relay worker round failed; trying again")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def send_one(self, now: datetime | None = None) -> bool:
        """Lease one due mail and try it; False when none was due."""
        now = now or utcnow()
        lease_until = now + self._lease
        async with self._sessionmaker() as session, session.begin():
            rows = await outbound_repo.claim_due(session=session, now=now, lease_until=lease_until)
        if not rows:
            return False
        row = rows[0]
        try:
            message = compose(row, from_address=self._from, display_name=self._names.get(row.language, ""))
            await self._relay.send(message)
        except RelayError as exc:
            await self._failed(row, lease_until, str(exc))
            return True
        except Exception as exc:  # a mail that cannot be built, a client error: retried later, not left leased
            log.exception("mail %s could not be sent", row.id)
            await self._failed(row, lease_until, f"{type(exc).__name__}: could not be sent")
            return True
        await self._sent(row, lease_until)
        return True

    async def _failed(self, row: OutboundMail, lease_until: datetime, reason: str) -> None:
        attempts = row.attempts + 1
        wait = retry_delay(attempts, first_seconds=self._retry[0], max_seconds=self._retry[1])
        async with self._sessionmaker() as session, session.begin():
            await outbound_repo.mark_failed(
                session=session,
                mail_id=row.id,
                lease_until=lease_until,
                retry_at=utcnow() + timedelta(seconds=wait),
                error=reason,
            )
        log.warning("mail %s not sent (attempt %d, next in %.0f s): %s", row.id, attempts, wait, reason)

    async def _sent(self, row: OutboundMail, lease_until: datetime) -> None:
        update: LiveUpdate | None = None
        at = utcnow()
        async with self._sessionmaker() as session, session.begin():
            if not await outbound_repo.mark_sent(session=session, mail_id=row.id, lease_until=lease_until, at=at):
                log.warning("mail %s was sent after its lease ended", row.id)
                return
            if row.message_row_id is not None:
                await messages_repo.mark_delivered(session=session, message_id=row.message_row_id, at=at)
                ticket = (
                    None
                    if row.ticket_id is None
                    else await tickets_repo.get_ticket(session=session, ticket_id=row.ticket_id)
                )
                if ticket is not None:
                    update = LiveUpdate(
                        type=DELIVERED,
                        ticket_number=ticket.number,
                        department=ticket.department_id,
                        assignee_id=ticket.assignee_id,
                    )
        log.info("mail %s (%s) handed to the relay", row.id, row.kind)
        if update is not None and self._bus is not None:
            await self._bus.publish(update)
