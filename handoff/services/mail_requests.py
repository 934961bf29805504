"""A request that arrives by e-mail: opened, or kept as a draft and asked about.

The triage is the bot's (``support_rules.triage.read_mentions`` over the
subject and text, ``Triage.rules()``). Before an agent sees anything the
sender must be known as adult (``mail_senders.adult_checked_at``) and the
topic must be known; otherwise the mail waits as a ``MailDraft`` and the
desk asks (the ``ask`` mail lists every missing value and points to the
panel; ``handoff.services.mail_drafts`` reads the answer). A complete
request goes through ``intake.open_request`` (which joins an open request
of the same customer and topic) and is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.live_bus import LiveUpdate
from handoff.mail.parse import InboundMail
from handoff.mail.quotes import new_words
from handoff.models import MailDraft, MailMessage, MailSender, OutboundMail
from handoff.services.handoffs import HandoffResult
from handoff.services.intake import CHANNEL_EMAIL, Contact, IntakeRequest, open_request
from handoff.services.mail_attachments import Refusal, receive_attachments, refusal_note
from handoff.services.mail_desk import MailDesk, MailOutcome
from handoff.services.mail_threads import DRAFT_WAITING, thread_key
from handoff.services.outbound_mail import queue_mail, subject_for
from handoff.services.panel import message_update
from support_rules.catalogue import Catalogue
from support_rules.language import fallback_language
from support_rules.language_detect import detect_language
from support_rules.limits import wait_minutes
from support_rules.masking import mask_secrets
from support_rules.triage import read_mentions

__all__ = [
    "new_request",
    "REQUIRED",
    "BIRTH_DATE",
    "REFUSED_KEY",
    "missing_values",
    "is_complete",
    "is_adult",
    "mark_adult",
    "ask",
    "acknowledge",
    "open_from_mail",
    "outcome_of",
    "description_of",
    "references_for",
]

BIRTH_DATE = "birth_date"
REQUIRED = (BIRTH_DATE, "topic")  # an agent sees the request once these are known
_OPTIONAL = ("transaction_type", "transaction_date", "username")
REFUSED_KEY = "refused_attachments"  # refusals noted while the request waited, for its ticket


def missing_values(values: dict[str, Any], adult: bool, catalogue: Catalogue) -> list[str]:
    """What the desk still needs, in the order it asks; as the bot's form, no
    transaction date for a transaction type that skips it."""
    missing = [] if adult else [BIRTH_DATE]
    kind = catalogue.transaction_type(values["transaction_type"]) if values.get("transaction_type") else None
    wanted = [
        s for s in ("topic", *_OPTIONAL) if not (s == "transaction_date" and kind is not None and kind.skips_date)
    ]
    return missing + [slot for slot in wanted if not values.get(slot)]


def is_complete(missing: Sequence[str]) -> bool:
    return not any(slot in REQUIRED for slot in missing)


async def is_adult(session: AsyncSession, address: str) -> bool:
    sender = await session.get(MailSender, address)
    return sender is not None and sender.adult_checked_at is not None


async def mark_adult(session: AsyncSession, address: str, now: datetime) -> None:
    sender = await session.get(MailSender, address)
    if sender is None:
        sender = MailSender(address=address)
        session.add(sender)
    sender.adult_checked_at = now
    sender.updated_at = now
    await session.flush()


def references_for(mail: InboundMail) -> tuple[str, ...]:
    return (*mail.references[-10:], mail.message_id)


def _options(desk: MailDesk, slot: str, language: str) -> str:
    catalogue = desk.triage.catalogue
    entries = catalogue.topics if slot == "topic" else catalogue.transaction_types
    return ", ".join(e.label(language) for e in entries if not e.ask_only)


async def queue_draft_mail(
    session: AsyncSession, desk: MailDesk, draft: MailDraft, mail: InboundMail, kind: str, values: dict[str, Any]
) -> OutboundMail | None:
    """The desk's automatic answer to a mail whose request waits on its
    sender (a question, the under-18 refusal), threaded under that mail."""
    return await queue_mail(
        session=session,
        texts=desk.texts,
        kind=kind,
        to_address=draft.address,
        language=draft.language,
        subject=desk.texts.render("subject_draft", draft.language, subject=draft.subject),
        values=values,
        domain=desk.domain,
        draft_id=draft.id,
        in_reply_to=mail.message_id,
        references=references_for(mail),
        automatic=True,
        hourly_automatic_limit=desk.auto_limit,
    )


async def ask(
    session: AsyncSession, desk: MailDesk, draft: MailDraft, mail: InboundMail, refused: Sequence[Refusal]
) -> None:
    lang = draft.language
    questions = "\n".join(
        desk.texts.render(f"question_{slot}", lang, options=_options(desk, slot, lang)) for slot in draft.missing
    )
    row = await queue_draft_mail(
        session, desk, draft, mail, "ask", {"questions": questions, "panel_url": desk.settings.panel_public_url}
    )
    if row is not None and (note := refusal_note(desk.texts, refused, lang)):
        row.body = f"{row.body}\n\n{note}"


async def acknowledge(
    session: AsyncSession,
    desk: MailDesk,
    result: HandoffResult,
    mail: InboundMail,
    language: str,
    refused: Sequence[Refusal],
) -> None:
    if not (result.created or result.joined):
        return  # this contact's request was acknowledged already
    ticket = result.ticket
    topic = desk.triage.catalogue.topic(ticket.topic_id or "")
    row = await queue_mail(
        session=session,
        texts=desk.texts,
        kind="joined" if result.joined else "ack",
        to_address=mail.sender,
        language=language,
        subject=subject_for(
            desk.texts, ticket=ticket, topic_label=topic.label(language) if topic else "", language=language
        ),
        values={
            "ticket_number": ticket.number,
            "queue_position": result.queue_position or 1,
            "wait_minutes": wait_minutes(result.expected_wait_seconds),
        },
        domain=desk.domain,
        ticket=ticket,
        in_reply_to=mail.message_id,
        references=references_for(mail),
        automatic=True,
        hourly_automatic_limit=desk.auto_limit,
    )
    if row is not None and (note := refusal_note(desk.texts, refused, language)):
        row.body = f"{row.body}\n\n{note}"


async def open_from_mail(
    session: AsyncSession,
    desk: MailDesk,
    *,
    mail: InboundMail,
    conversation_id: str,
    language: str,
    description: str,
    values: dict[str, Any],
    now: datetime,
) -> HandoffResult:
    when = values.get("transaction_date")
    request = IntakeRequest(
        contact=Contact(channel=CHANNEL_EMAIL, conversation_id=conversation_id, email=mail.sender),
        language=language,
        description=description,
        topic_id=values["topic"],
        transaction_type_id=values.get("transaction_type"),
        transaction_date=date.fromisoformat(when) if when else None,
        username=values.get("username"),
        created_at=now,
    )
    return await open_request(session=session, request=request, triage=desk.triage, now=now)


def outcome_of(result: HandoffResult) -> MailOutcome:
    ticket = result.ticket
    if result.created:
        update_: LiveUpdate = {
            "type": "ticket.queued",
            "ticket_number": ticket.number,
            "department": ticket.department_id,
        }
        return MailOutcome("opened", ticket.number, [update_])
    return MailOutcome("joined", ticket.number, [message_update(ticket)] if result.joined else [])


def description_of(subject: str, text: str) -> str:
    return "\n\n".join(part for part in (subject.strip(), text.strip()) if part) or "-"


async def new_request(
    *, session: AsyncSession, desk: MailDesk, mail: InboundMail, row: MailMessage, now: datetime
) -> MailOutcome:
    """A mail that answers nothing: opened, or kept as a draft and asked about."""
    text = new_words(mail.text)
    both = f"{mail.subject}\n{text}"
    language = fallback_language(detect_language(both))
    values: dict[str, Any] = dict(read_mentions(both, desk.triage.rules()))
    missing = missing_values(values, await is_adult(session, mail.sender), desk.triage.catalogue)
    conversation_id = f"email:{thread_key(mail.message_id)}"
    if is_complete(missing):
        result = await open_from_mail(
            session, desk, mail=mail, conversation_id=conversation_id, language=language,
            description=description_of(mail.subject, text), values=values, now=now,
        )  # fmt: skip
        row.ticket_id = result.ticket.id
        received = await receive_attachments(
            session=session, checks=desk.checks, attachments=mail.attachments,
            conversation_id=conversation_id, ticket=result.ticket, source=f"mail:{row.id}",
        )  # fmt: skip
        await acknowledge(session, desk, result, mail, language, received.refused)
        return outcome_of(result)
    draft = MailDraft(
        address=mail.sender,
        language=language,
        subject=mask_secrets(" ".join(mail.subject.split()))[:900],
        text=mask_secrets(text),
        values=values,
        missing=missing,
        status=DRAFT_WAITING,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    await session.flush()
    row.draft_id = draft.id
    received = await receive_attachments(
        session=session, checks=desk.checks, attachments=mail.attachments,
        conversation_id=conversation_id, ticket=None, source=f"mail:{row.id}",
    )  # fmt: skip
    if received.refused:
        draft.values = {**values, REFUSED_KEY: [[r.filename, r.code] for r in received.refused]}
    await ask(session, desk, draft, mail, received.refused)
    return MailOutcome("asked", detail={"draft": draft.id, "missing": missing})
