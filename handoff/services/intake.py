"""Requests that reach the desk without the bot: the request form and e-mail.

Both go through the triage the chat uses, by the same code
(support_rules.triage, .priority, .summary: the summary schema, priority
rules and masking are the bot's), and land in the same queue through
``create_handoff``. One request per problem: a customer (the account the
platform's token proves, or an e-mail address) who writes about a topic
that already has an open request joins that request instead of opening a
second one (handoff.services.contacts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Unprocessable
from handoff.models import utcnow
from handoff.schemas import SummaryValidator
from handoff.services.contacts import CHANNEL_EMAIL, CHANNEL_FORM, normal_email
from handoff.services.handoffs import HandoffResult, create_handoff
from handoff.services.queue_positions import QueueRules
from handoff.settings import Settings
from support_rules.catalogue import Catalogue, load_catalogue
from support_rules.language import fallback_language
from support_rules.priority import PriorityRules
from support_rules.summary import TranscriptLine, TriageCase, build_summary
from support_rules.triage import TriageRules

__all__ = [
    "CHANNEL_FORM",
    "CHANNEL_EMAIL",
    "Contact",
    "IntakeRequest",
    "Triage",
    "open_request",
]


@dataclass(frozen=True)
class Triage:
    """What intake reads requests with: the editors' catalogue and the
    desk's settings (built once per process, see ``Triage.from_settings``)."""

    catalogue_path: Path
    validator: SummaryValidator
    queue_rules: QueueRules
    username_pattern: str
    max_age_days: int
    timezone: str
    verification_topics: tuple[str, ...] = ()

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.catalogue_path)

    @cached_property
    def priority_rules(self) -> PriorityRules:
        return PriorityRules.from_catalogue(self.catalogue)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        validator: SummaryValidator,
        queue_rules: QueueRules,
        verification_topics: Iterable[str] = (),
    ) -> Triage:
        return cls(
            catalogue_path=settings.catalogue_path,
            validator=validator,
            queue_rules=queue_rules,
            username_pattern=settings.username_pattern,
            max_age_days=settings.transaction_max_age_days,
            timezone=settings.support_timezone,
            verification_topics=tuple(verification_topics),
        )

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    def rules(self, today: date | None = None) -> TriageRules:
        return TriageRules(
            catalogue=self.catalogue,
            today=today or self.today(),
            max_age_days=self.max_age_days,
            username_pattern=self.username_pattern,
        )


@dataclass(frozen=True)
class Contact:
    """Who wrote, and on what: ``conversation_id`` is the contact's own id
    (``form:<posting key>``, ``email:<thread key>``, a chat's sender id); the
    same id twice is the same contact (a retried form, a redelivered mail)."""

    channel: str
    conversation_id: str
    email: str | None = None
    account_username: str | None = None  # proven by the platform's token


@dataclass(frozen=True)
class IntakeRequest:
    contact: Contact
    language: str
    description: str
    topic_id: str
    transaction_type_id: str | None = None
    transaction_date: date | None = None
    username: str | None = None
    age_method: str = "birth_date"  # birth_date | verified_token
    transcript: Sequence[TranscriptLine] = ()
    created_at: datetime = field(default_factory=utcnow)


def _summary(request: IntakeRequest, triage: Triage, today: date) -> dict[str, Any]:
    catalogue = triage.catalogue
    topic = catalogue.topic(request.topic_id)
    if topic is None:
        raise Unprocessable(f"unknown topic: {request.topic_id}", code="unknown_topic")
    kind = catalogue.transaction_type(request.transaction_type_id) if request.transaction_type_id else None
    if request.transaction_type_id and kind is None:
        raise Unprocessable(f"unknown transaction type: {request.transaction_type_id}", code="unknown_transaction_type")
    username = request.username or request.contact.account_username
    case = TriageCase(
        conversation_id=request.contact.conversation_id,
        channel=request.contact.channel,
        language=fallback_language(request.language),
        username=username,
        username_verified=username is not None and username == request.contact.account_username,
        topic=topic,
        transaction_type=kind,
        transaction_date=request.transaction_date,
        age_method=request.age_method,
        description=request.description,
        today=today,
        transcript=list(request.transcript)
        or [TranscriptLine(sender="customer", text=request.description, timestamp=request.created_at)],
        contact_email=normal_email(request.contact.email),
        created_at=request.created_at,
    )
    return build_summary(case, priority_rules=triage.priority_rules)


async def open_request(
    *, session: AsyncSession, request: IntakeRequest, triage: Triage, now: datetime | None = None
) -> HandoffResult:
    """The customer's request: the one this contact already made (a form
    posted twice, a mail delivered twice), an open one of the same customer
    and topic that the contact joins, or a new ticket in the queue: all
    decided by ``create_handoff``, as for a chat."""
    now = now or utcnow()
    result = await create_handoff(
        session=session,
        summary=_summary(request, triage, triage.today()),
        idempotency_key=request.contact.channel,
        validator=triage.validator,
        rules=triage.queue_rules,
        verification_topics=triage.verification_topics,
        now=now,
    )
    return result
