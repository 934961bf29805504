"""Retention: what the service keeps of a conversation, and for how long.

One run (the ``retention`` command, and every ``serve`` replica once per
``HANDOFF_RETENTION_INTERVAL``):

1. queued tickets of customers long gone leave the queue as ``abandoned``
   (silent for ``HANDOFF_ABANDON_AFTER_SECONDS``, or for the archive age
   when that is 0), so no ticket stays queued, and kept, forever;
2. closed tickets are archived (read-only) after the archive age;
3. archived tickets are purged after the purge age, the one age of every
   store (``support_rules.retention``): the ticket and its messages are
   deleted, its audit entries keep who did what and when but lose their
   details (a resolve note, a search query); its documents go with it,
   rows and stored bytes (so do documents that never reached a ticket and
   are older than the purge age);
4. audit details older than the purge age are forgotten the same way (the
   searches and transcript reads that name no ticket);
5. the transcripts of conversations whose last line is older than the
   purge age and that no ticket refers to any more are deleted;
6. failed log-ins older than the limiter's window, which nothing reads any
   more, are deleted;
7. customer records (the outcome of identity verification) unchanged for
   the purge age and whose username no ticket names any more are deleted;
8. e-mail requests still waiting on their sender (a birth date, a topic)
   after the archive age are deleted with their mail, what the desk knows of
   an address unchanged for the purge age is forgotten, and rate marks go
   after a day (a ticket's contacts and mail go with the ticket).

Rasa's stores and the action server's outbox are purged at the same age by
their own processes (``bot/retention.py``, ``actions/outbox_worker.py``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.documents import repo as documents_repo
from handoff.documents.storage import DocumentStore
from handoff.live_bus import LiveBus
from handoff.models import LoginFailure, MailDraft, MailSender, RateMark, Ticket, utcnow
from handoff.repo import audit as audit_repo
from handoff.repo import conversations as conversations_repo
from handoff.repo import customers as customers_repo
from handoff.repo import tickets as tickets_repo
from handoff.services.abandon import SILENT, abandon_silent, closed_event
from handoff.services.rate_limits import forget_marks
from support_rules.retention import SECONDS_PER_DAY

__all__ = ["RetentionResult", "apply_retention", "RetentionJob", "gone_after_seconds", "delete_document_bytes"]

log = logging.getLogger("handoff.retention")


@dataclass(frozen=True)
class RetentionResult:
    archived: int
    purged: int
    login_failures: int = 0
    abandoned: int = 0
    transcript_lines: int = 0
    audit_details: int = 0
    customers: int = 0
    closed: list[Ticket] = field(default_factory=list, compare=False, repr=False)
    # storage keys of the documents removed: their bytes are deleted once
    # the run has committed (delete_document_bytes)
    document_keys: list[str] = field(default_factory=list, compare=False, repr=False)
    mail_records: int = 0

    @property
    def documents(self) -> int:
        return len(self.document_keys)


def gone_after_seconds(abandon_after_seconds: int | None, archive_after_days: int) -> int:
    """How long a queued customer may be silent before retention abandons
    the ticket: the abandon age, or the archive age when that is 0 (never
    forever); 0 when both are 0."""
    return abandon_after_seconds if abandon_after_seconds else archive_after_days * SECONDS_PER_DAY


async def apply_retention(
    *,
    session: AsyncSession,
    archive_after_days: int,
    purge_after_days: int,
    now: datetime | None = None,
    login_window_seconds: int | None = None,
    abandon_after_seconds: int | None = None,
    rate_window_seconds: int | None = None,
) -> RetentionResult:
    if archive_after_days < 0 or purge_after_days < archive_after_days:
        raise ValueError("need 0 <= archive age <= purge age")
    now = now or utcnow()
    closed: list[Ticket] = []
    silent = gone_after_seconds(abandon_after_seconds, archive_after_days)
    while silent:
        batch = await abandon_silent(session=session, silent_seconds=silent, now=now)
        if not batch:
            break
        closed.extend(batch)
    archived = await tickets_repo.archive_closed_before(
        session=session, cutoff=now - timedelta(days=archive_after_days), now=now
    )
    cutoff = now - timedelta(days=purge_after_days)
    document_keys = await documents_repo.keys_to_purge(session=session, cutoff=cutoff)
    purged = await tickets_repo.purge_archived_before(session=session, cutoff=cutoff)  # their documents cascade
    await documents_repo.delete_unlinked_before(session=session, cutoff=cutoff)
    details = await audit_repo.scrub_details(session=session, before=cutoff, ticket_ids=purged)
    lines = await conversations_repo.purge_conversations_before(session=session, cutoff=cutoff)
    forgotten = 0
    if login_window_seconds is not None:
        result = cast(
            CursorResult[Any],
            await session.execute(
                delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=login_window_seconds))
            ),
        )
        forgotten = result.rowcount or 0
    if rate_window_seconds is not None:  # the request form's rate limits (handoff.services.rate_limits)
        await forget_marks(session=session, before=now - timedelta(seconds=rate_window_seconds))
    customers = await customers_repo.purge_customers_before(session=session, cutoff=cutoff)
    mail = await _purge_mail(session, drafts_before=now - timedelta(days=archive_after_days), cutoff=cutoff, now=now)
    return RetentionResult(
        archived, len(purged), forgotten, len(closed), lines, details, customers, closed, document_keys, mail
    )


async def _purge_mail(session: AsyncSession, *, drafts_before: datetime, cutoff: datetime, now: datetime) -> int:
    removed = 0
    for statement in (
        delete(MailDraft).where(MailDraft.updated_at <= drafts_before),
        delete(MailSender).where(MailSender.updated_at <= cutoff),
        delete(RateMark).where(RateMark.at <= now - timedelta(days=1)),
    ):
        removed += cast(CursorResult[Any], await session.execute(statement)).rowcount or 0
    return removed


async def delete_document_bytes(store: DocumentStore, keys: list[str]) -> int:
    """Delete the stored bytes of documents whose rows are gone; a failure is
    logged (the bytes stay, unreachable) and the rest go on."""
    deleted = 0
    for key in keys:
        try:
            await store.delete(key)
            deleted += 1
        except Exception:
            log.exception("could not delete a purged document's bytes")
    return deleted


_LOCK = (0x48414E44, 0x52455445)  # "HAND", "RETE": one retention run at a time across replicas


async def _first_to_run(session: AsyncSession) -> bool:
    """On PostgreSQL one replica runs retention at a time (a transaction
    advisory lock; the others skip this turn); SQLite has one writer."""
    if session.bind.dialect.name != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(*_LOCK))))


class RetentionJob:
    """Retention in the background of ``serve``: once at start, then every
    ``interval_seconds``. A failed run is logged and tried again at the next
    interval."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        interval_seconds: float,
        archive_after_days: int,
        purge_after_days: int,
        login_window_seconds: int,
        abandon_after_seconds: int,
        bus: LiveBus | None = None,
        document_store: DocumentStore | None = None,
        rate_window_seconds: int | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval_seconds
        self._ages = (archive_after_days, purge_after_days)
        self._login_window = login_window_seconds
        self._abandon_after = abandon_after_seconds
        self._bus = bus
        self._document_store = document_store
        self._rate_window = rate_window_seconds

    async def run_once(self, now: datetime | None = None) -> RetentionResult | None:
        """One run; None when another replica holds the run."""
        async with self._sessionmaker() as session, session.begin():
            if not await _first_to_run(session):
                return None
            result = await apply_retention(
                session=session,
                archive_after_days=self._ages[0],
                purge_after_days=self._ages[1],
                now=now,
                login_window_seconds=self._login_window,
                abandon_after_seconds=self._abandon_after,
                rate_window_seconds=self._rate_window,
            )
        if self._document_store is not None:
            await delete_document_bytes(self._document_store, result.document_keys)
        log.info(
            "retention: abandoned %d, archived %d, purged %d ticket(s), %d document(s), %d transcript line(s), "
            "%d audit detail(s)",
            result.abandoned,
            result.archived,
            result.purged,
            result.documents,
            result.transcript_lines,
            result.audit_details,
        )
        if self._bus is not None:
            for ticket in result.closed:
                await self._bus.publish(closed_event(ticket, SILENT))
        return result

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the next interval tries again; serving goes on
                log.exception("retention run failed")
            await asyncio.sleep(self._interval)
