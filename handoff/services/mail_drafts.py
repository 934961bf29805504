"""The sender's answer to the desk's question about a waiting draft.

A birth date over 18 marks the address adult (the date itself is never
stored, nor the words that carried it); under 18 refuses the draft and
erases its text and documents. Once the topic is known as well, the draft
becomes a request (``intake.open_request``) and is acknowledged;
otherwise the desk asks again for what is still missing (automatic mail,
so at most ``mail_auto_replies_per_hour`` of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.mail.parse import InboundMail
from handoff.mail.quotes import new_words
from handoff.models import Document, MailDraft, MailMessage
from handoff.services.mail_attachments import Refusal, link_waiting_documents, note_refusal, receive_attachments
from handoff.services.mail_desk import MailDesk, MailOutcome
from handoff.services.mail_requests import (
    BIRTH_DATE,
    REFUSED_KEY,
    acknowledge,
    ask,
    description_of,
    is_adult,
    is_complete,
    mark_adult,
    missing_values,
    open_from_mail,
    outcome_of,
    queue_draft_mail,
)
from handoff.services.mail_threads import thread_key
from support_rules.dates import check_birth_date, read_birth_date
from support_rules.masking import mask_secrets
from support_rules.triage import read_answer, read_mentions

__all__ = ["answer_draft"]


async def _draft_conversation(session: AsyncSession, draft: MailDraft) -> str:
    """``email:<key>`` of the draft's first mail."""
    stmt = (
        select(MailMessage.message_id)
        .where(MailMessage.draft_id == draft.id, MailMessage.direction == "in")
        .order_by(MailMessage.id)
        .limit(1)
    )
    first = (await session.execute(stmt)).scalar_one()
    return f"email:{thread_key(first)}"


async def _refuse_minor(
    session: AsyncSession, desk: MailDesk, draft: MailDraft, mail: InboundMail, conversation_id: str, now: datetime
) -> MailOutcome:
    await queue_draft_mail(session, desk, draft, mail, "under_18", {})
    unlinked = (Document.conversation_id == conversation_id, Document.ticket_id.is_(None))
    keys = list((await session.execute(select(Document.storage_key).where(*unlinked))).scalars())
    await session.execute(delete(Document).where(*unlinked))
    for key in keys:
        await desk.checks.store.delete(key)
    draft.status, draft.text, draft.subject, draft.values, draft.missing = "refused", "", "", {}, []
    draft.updated_at = now
    return MailOutcome("refused", detail={"draft": draft.id})


async def answer_draft(
    *, session: AsyncSession, desk: MailDesk, mail: InboundMail, row: MailMessage, draft: MailDraft, now: datetime
) -> MailOutcome:
    """The sender's answer to the desk's question about ``draft``."""
    row.draft_id = draft.id
    conversation_id = await _draft_conversation(session, draft)
    text = new_words(mail.text)
    rules = desk.triage.rules()
    if BIRTH_DATE in draft.missing:
        check = check_birth_date(text, rules.today)
        if check.outcome == "under_18":
            return await _refuse_minor(session, desk, draft, mail, conversation_id, now)
        if check.outcome == "over_18":
            await mark_adult(session, draft.address, now)
    told_birth_date = read_birth_date(text, rules.today).value is not None
    values = dict(draft.values)
    for slot, value in read_mentions(text, rules).items():
        values.setdefault(slot, value)
    if "topic" not in values and (topic := read_answer("topic", text, rules).value):
        values["topic"] = topic
    if text and not told_birth_date:  # the words that carried a birth date are not kept
        draft.text = f"{draft.text}\n\n{mask_secrets(text)}".strip()
    draft.values = values
    draft.missing = missing_values(values, await is_adult(session, draft.address), desk.triage.catalogue)
    draft.updated_at = now
    received = await receive_attachments(
        session=session, checks=desk.checks, attachments=mail.attachments,
        conversation_id=conversation_id, ticket=None, source=f"mail:{row.id}",
    )  # fmt: skip
    if not is_complete(draft.missing):
        await ask(session, desk, draft, mail, received.refused)
        return MailOutcome("asked", detail={"draft": draft.id, "missing": draft.missing})
    return await _convert(session, desk, draft, mail, row, conversation_id, received.refused, now)


async def _convert(
    session: AsyncSession,
    desk: MailDesk,
    draft: MailDraft,
    mail: InboundMail,
    row: MailMessage,
    conversation_id: str,
    refused_now: Sequence[Refusal],
    now: datetime,
) -> MailOutcome:
    values = {k: v for k, v in draft.values.items() if k != REFUSED_KEY}
    earlier = [Refusal(str(f), str(c)) for f, c in draft.values.get(REFUSED_KEY, [])]
    result = await open_from_mail(
        session, desk, mail=mail, conversation_id=conversation_id, language=draft.language,
        description=description_of(draft.subject, draft.text), values=values, now=now,
    )  # fmt: skip
    ticket = result.ticket
    await link_waiting_documents(session=session, conversation_id=conversation_id, ticket=ticket)
    for i, refusal in enumerate((*earlier, *refused_now)):
        await note_refusal(session=session, ticket=ticket, refusal=refusal, source_id=f"draft:{draft.id}:refused:{i}")
    await session.execute(update(MailMessage).where(MailMessage.draft_id == draft.id).values(ticket_id=ticket.id))
    row.ticket_id = ticket.id
    draft.status, draft.ticket_id, draft.values = "converted", ticket.id, values
    await acknowledge(session, desk, result, mail, draft.language, refused_now)
    return outcome_of(result)
