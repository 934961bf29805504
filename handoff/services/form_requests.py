"""A request form posting becomes a request in the queue (handoff.services.intake).

One posting is one request: the page sends a key of its own with every
try (``Idempotency-Key``), and the posting's contact is ``form:<hash of
the key>``, so a double click or a retry answers the request the first
try made (and counts, mails and stores nothing again). A new posting
passes the rate limits (per client address and per e-mail address:
handoff.services.rate_limits; postings under the same keys are decided
one at a time), then intake triages it as the chat's requests are
triaged, or joins it to the customer's open request on the same topic. When the customer gave an e-mail address, its
acknowledgement is queued in the same transaction (the relay sends it).
Documents come after the request exists, each checked as in the chat and
refused on its own (``receive_form_documents``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.documents.refusals import DocumentRefused
from handoff.documents.scanner import Scanner
from handoff.documents.service import document_view, receive_document
from handoff.documents.storage import DocumentStore
from handoff.errors import TooManyRequests
from handoff.models import Ticket, utcnow
from handoff.services.contacts import contact_for
from handoff.services.form_checks import CheckedForm
from handoff.services.handoffs import HandoffResult
from handoff.services.intake import (
    CHANNEL_FORM,
    Contact,
    IntakeRequest,
    Triage,
    open_request,
)
from handoff.services.outbound_mail import MailTexts, queue_mail, subject_for
from handoff.services.rate_limits import hold, rate_key, take
from handoff.settings import Settings
from support_rules.limits import wait_minutes

__all__ = ["FormLimits", "FormPosting", "Upload", "form_conversation_id", "submit_form", "receive_form_documents"]


@dataclass(frozen=True)
class FormLimits:
    max_per_address: int
    max_per_email: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FormLimits:
        return cls(settings.form_max_per_address, settings.form_max_per_email, settings.form_window_seconds)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class FormPosting:
    result: HandoffResult
    repeated: bool  # the same key again: the first try's request
    mail_queued: bool


def form_conversation_id(key: str) -> str:
    """The posting's contact id: ``form:`` and a hash of the page's key
    (the key itself, which answers for the request, is never stored)."""
    return "form:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _contact(form: CheckedForm, key: str, account_username: str | None) -> Contact:
    return Contact(
        channel=CHANNEL_FORM,
        conversation_id=form_conversation_id(key),
        email=form.email,
        account_username=account_username,
    )


def _rate_keys(form: CheckedForm, client_address: str, limits: FormLimits) -> dict[str, int]:
    keys = {rate_key("form-address", client_address): limits.max_per_address}
    if form.email:
        keys[rate_key("form-email", form.email)] = limits.max_per_email
    return keys


async def _check_rate(session: AsyncSession, keys: dict[str, int], limits: FormLimits, now: datetime) -> None:
    wait = await take(session=session, limits=keys, window_seconds=limits.window_seconds, now=now)
    if wait is not None:
        raise TooManyRequests("too many requests from here; try again later", code="rate_limited", retry_after=wait)


async def _acknowledge(
    session: AsyncSession,
    *,
    result: HandoffResult,
    form: CheckedForm,
    triage: Triage,
    texts: MailTexts,
    domain: str,
    hourly_limit: int,
    now: datetime,
) -> bool:
    if not form.email:
        return False
    ticket = result.ticket
    topic = triage.catalogue.topic(ticket.topic_id)
    label = topic.label(form.language) if topic else ticket.topic_id
    queued = await queue_mail(
        session=session,
        texts=texts,
        kind="joined" if result.joined else "ack",
        to_address=form.email,
        language=form.language,
        subject=subject_for(texts, ticket=ticket, topic_label=label, language=form.language),
        values={
            "ticket_number": ticket.number,
            "queue_position": result.queue_position or 1,
            "wait_minutes": wait_minutes(result.expected_wait_seconds),
        },
        domain=domain,
        ticket=ticket,
        automatic=True,
        hourly_automatic_limit=hourly_limit,
        now=now,
    )
    return queued is not None


async def submit_form(
    *,
    session: AsyncSession,
    form: CheckedForm,
    key: str,
    account_username: str | None,
    client_address: str,
    triage: Triage,
    limits: FormLimits,
    texts: MailTexts,
    mail_domain: str,
    mail_hourly_limit: int,
    now: datetime | None = None,
) -> FormPosting:
    """The request of this posting: the first try's when the key was seen
    (``repeated``), else a new or joined one (``TooManyRequests`` past
    the limits)."""
    now = now or utcnow()
    contact = _contact(form, key, account_username)
    request = _request(form, contact, now)
    keys = _rate_keys(form, client_address, limits)
    if await contact_for(session=session, conversation_id=contact.conversation_id) is None:
        # postings from one address or e-mail address go one at a time from here (and, on
        # SQLite, the transaction holds the write lock before intake's savepoints)
        await hold(session=session, keys=keys, since=now - timedelta(seconds=limits.window_seconds))
    if await contact_for(session=session, conversation_id=contact.conversation_id) is not None:
        # the same key again, or a twin posting that got there while this one waited
        result = await open_request(session=session, request=request, triage=triage, now=now)
        return FormPosting(result, repeated=True, mail_queued=False)
    await _check_rate(session, keys, limits, now)
    result = await open_request(session=session, request=request, triage=triage, now=now)
    if not result.created and not result.joined:  # a twin from elsewhere won the insert
        return FormPosting(result, repeated=True, mail_queued=False)
    mailed = await _acknowledge(
        session,
        result=result,
        form=form,
        triage=triage,
        texts=texts,
        domain=mail_domain,
        hourly_limit=mail_hourly_limit,
        now=now,
    )
    return FormPosting(result, repeated=False, mail_queued=mailed)


def _request(form: CheckedForm, contact: Contact, now: datetime) -> IntakeRequest:
    return IntakeRequest(
        contact=contact,
        language=form.language,
        description=form.description,
        topic_id=form.topic_id,
        transaction_type_id=form.transaction_type_id,
        transaction_date=form.transaction_date,
        username=form.username,
        age_method="verified_token" if contact.account_username else "birth_date",
        created_at=now,
    )


async def receive_form_documents(
    *,
    session: AsyncSession,
    ticket: Ticket,
    key: str,
    uploads: Sequence[Upload],
    store: DocumentStore,
    scanner: Scanner,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Each file checked and kept as the chat's are, or refused on its own:
    ``{"filename", "document"}`` or ``{"filename", "refused": code}``."""
    out: list[dict[str, Any]] = []
    for upload in uploads:
        try:
            async with session.begin_nested():
                doc = await receive_document(
                    session=session,
                    store=store,
                    scanner=scanner,
                    settings=settings,
                    conversation_id=form_conversation_id(key),
                    ticket=ticket,
                    uploader="customer",
                    agent_id=None,
                    filename=upload.filename,
                    data=upload.data,
                    channel=CHANNEL_FORM,
                )
            out.append({"filename": upload.filename, "document": document_view(doc)})
        except DocumentRefused as refused:
            out.append({"filename": upload.filename, "refused": refused.code})
    return out
