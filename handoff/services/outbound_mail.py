"""E-mails the desk sends, queued in the transaction that decides to send
them (the relay worker sends them: handoff.mail.relay).

The wording is the editors', in data/mail.yml (``MailTexts``). Every mail
gets its Message-ID when it is queued and is recorded in ``mail_messages``,
so the customer's answer threads back to its ticket or draft and a retried
send is the same mail. Automatic mails (acknowledgements, questions) are
limited per address and hour: two desks answering each other's
auto-replies stop there (handoff.mail.loops decides what is automatic on
the way in).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import MailMessage, OutboundMail, Ticket, utcnow
from support_rules.language import fallback_language
from support_rules.masking import mask_secrets
from support_rules.notices import load_notices

__all__ = [
    "MailTexts",
    "MailTextsError",
    "load_mail_texts",
    "queue_mail",
    "new_message_id",
    "automatic_sent_since",
    "MAIL_KINDS",
    "subject_for",
]

MAIL_KINDS = ("reply", "ack", "joined", "ask", "under_18", "notice")
REQUIRED = (
    "from_name",
    "subject",
    "subject_draft",
    "ack",
    "joined",
    "ask",
    "under_18",
    "reply",
    "notice",
    "documents_requested",
    "question_birth_date",
    "question_topic",
    "question_transaction_type",
    "question_transaction_date",
    "question_username",
)


class MailTextsError(RuntimeError):
    """The mail texts file is missing a text or a language."""


@dataclass(frozen=True)
class MailTexts:
    by_key: dict[str, dict[str, str]]

    def render(self, key: str, language: str, **values: Any) -> str:
        return self.by_key[key][fallback_language(language)].format(**values)


def load_mail_texts(path: Path) -> MailTexts:
    return MailTexts(load_notices(path, REQUIRED, error=MailTextsError))


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


async def automatic_sent_since(*, session: AsyncSession, address: str, since: datetime) -> int:
    stmt = select(func.count(OutboundMail.id)).where(
        OutboundMail.to_address == address.lower(), OutboundMail.automatic.is_(True), OutboundMail.created_at >= since
    )
    return int((await session.execute(stmt)).scalar_one())


async def queue_mail(
    *,
    session: AsyncSession,
    texts: MailTexts,
    kind: str,
    to_address: str,
    language: str,
    subject: str,
    values: Mapping[str, Any],
    domain: str,
    ticket: Ticket | None = None,
    draft_id: int | None = None,
    message_row_id: int | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = False,
    hourly_automatic_limit: int = 3,
    now: datetime | None = None,
) -> OutboundMail | None:
    """Queue one mail of ``kind`` (its body the text of that key, filled
    with ``values``). An automatic mail to an address that had
    ``hourly_automatic_limit`` of them in the last hour is not queued
    (None). ``subject`` is the whole subject line (see ``subject_for``)."""
    if kind not in MAIL_KINDS:
        raise ValueError(f"not a mail kind: {kind}")
    now = now or utcnow()
    address = to_address.strip().lower()
    if automatic and (
        await automatic_sent_since(session=session, address=address, since=now - timedelta(hours=1))
        >= hourly_automatic_limit
    ):
        return None
    row = OutboundMail(
        ticket_id=None if ticket is None else ticket.id,
        draft_id=draft_id,
        message_row_id=message_row_id,
        kind=kind,
        automatic=automatic,
        to_address=address,
        language=fallback_language(language),
        # a customer's own subject line may carry a card number or a code: masked like every stored text
        subject=mask_secrets(" ".join(subject.split()))[:998],
        body=texts.render(kind, language, **values),
        message_id=new_message_id(domain),
        in_reply_to=in_reply_to,
        references=" ".join(references) or None,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.add(
        MailMessage(
            message_id=row.message_id,
            direction="out",
            ticket_id=row.ticket_id,
            draft_id=draft_id,
            created_at=now,
        )
    )
    await session.flush()
    return row


def subject_for(texts: MailTexts, *, ticket: Ticket, topic_label: str, language: str) -> str:
    """``[T-000123] <topic>``: the request number a reply threads by."""
    return texts.render("subject", language, ticket_number=ticket.number, topic=topic_label)
