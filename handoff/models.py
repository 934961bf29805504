"""Tables of the handoff service.

Ticket numbers are derived from the primary key (``T-000123``) so there is
nothing to keep in step. Departments mirror ``data/catalogue.yml``; the
catalogue stays the one place where they are defined.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from support_rules.tickets import (
    QUEUED,
    format_ticket_number,
)
from support_rules.verification import KIND_SUPPORT, STATUS_NONE

__all__ = [
    "Base",
    "Department",
    "Agent",
    "AgentDepartment",
    "Ticket",
    "Message",
    "AuditEntry",
    "utcnow",
    "ROLES",
    "EDITOR_ROLES",
    "ConversationLanguage",
    "ReviewDecision",
    "ModelVersion",
    "REVIEW_DECISIONS",
    "MODEL_STATUSES",
    "SENDERS",
    "ConversationEvent",
    "CustomerRecord",
    "BrokerCursor",
    "Document",
    "DocumentBlob",
    "UPLOADERS",
    "DOCUMENT_STATUSES",
    "TRANSCRIPT_KINDS",
    "MAX_ROW_ID",
    "TicketContact",
    "MailMessage",
    "OutboundMail",
    "MailDraft",
    "MailSender",
    "RateMark",
    "OUTBOUND_STATUSES",
]

ROLES = ("agent", "supervisor", "admin", "editor")
# who may use the editors' pages and APIs (the review inbox, training, figures)
EDITOR_ROLES = ("editor", "supervisor", "admin")
# ids are Integer columns: 32-bit signed on PostgreSQL (tickets' too:
# support_rules.tickets.MAX_TICKET_ID); a larger number names no row
MAX_ROW_ID = 2**31 - 1
SENDERS = ("customer", "bot", "agent", "system")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_tr: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentDepartment(Base):
    __tablename__ = "agent_departments"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), primary_key=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department_links: Mapped[list[AgentDepartment]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def department_ids(self) -> list[str]:
        return sorted(link.department_id for link in self.department_links)

    @property
    def sees_all(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def edits(self) -> bool:
        """May use the editors' pages: editors, supervisors, admins."""
        return self.role in EDITOR_ROLES

    @property
    def works_tickets(self) -> bool:
        """May use the agents' pages and APIs: everyone but editors."""
        return self.role != "editor"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("conversation_id", "idempotency_key", name="uq_tickets_conversation_key"),
        Index("ix_tickets_queue", "status", "department_id", "priority_rank", "created_at"),
        Index("ix_tickets_username", "username"),
        Index("ix_tickets_account_username", "account_username"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the customer account the ticket belongs to: set only when the handoff
    # came with the platform's verified token (username_source verified_token);
    # the customer panel shows a customer the tickets of their account only
    account_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    topic_id: Mapped[str] = mapped_column(String(32))
    # support | verification (support_rules.verification.REQUEST_KINDS)
    kind: Mapped[str] = mapped_column(String(16), default=KIND_SUPPORT, server_default=KIND_SUPPORT)
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)
    priority_reason: Mapped[str] = mapped_column(String(500))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the queue position the customer was last told, and when (queue notices;
    # on the row so every replica shares it)
    told_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def number(self) -> str:
        return format_ticket_number(self.id)


class CustomerRecord(Base):
    """What the desk knows about a customer across tickets: the outcome of
    identity verification (handoff.services.verification).

    Keyed by the ticket's username. ``verified_source`` says whether the
    last change came from a ticket whose username the platform's signed
    token proved; a record changed from a typed username is never shown to
    the customer as theirs, and never overwrites a proven one.
    """

    __tablename__ = "customers"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    verified_source: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_status: Mapped[str] = mapped_column(String(16), default=STATUS_NONE)
    reason_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_on_ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginFailure(Base):
    """One failed log-in, under the hashed username and the hashed client
    address (handoff.services.login_limits)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("ticket_id", "source_id", name="uq_messages_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    # where a customer line came from when not the conversation itself
    # (``panel``: written in the customer panel); None: the conversation.
    # An agent's reply: ``email`` when it goes by e-mail (handoff.services.mail_replies)
    channel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # agent replies: when the customer's channel accepted it (None: not yet)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """Who did what to which ticket. Kept after a ticket is purged."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


TRANSCRIPT_KINDS = ("customer", "bot", "agent", "notice")


class ConversationEvent(Base):
    """One line of a conversation as Rasa's event broker published it.

    Every conversation is kept, bot-only ones too (metrics, review). The key
    is derived from the event itself, so a redelivered event is stored once
    whatever broker carried it.
    """

    __tablename__ = "conversation_events"
    __table_args__ = (
        UniqueConstraint("event_key", name="uq_conversation_events_key"),
        Index("ix_conversation_events_conversation", "conversation_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    event_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # a customer line's FAQ answer as the bot picked it ("faq/login_problem");
    # a bot line's response name as Rasa published it ("utter_ask_faq_solved")
    faq: Mapped[str | None] = mapped_column(String(255), nullable=True)
    response: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BrokerCursor(Base):
    """How far a consumer has read a source that is followed by position
    (Rasa's SQL ``events`` table); updated in the transaction that stores
    the events it covers."""

    __tablename__ = "broker_cursors"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


UPLOADERS = ("customer", "agent")
# stored: scanned clean (or no scanner configured); held: the scanner could
# not say, kept for review and served to nobody until a scan passes
DOCUMENT_STATUSES = ("stored", "held")


class Document(Base):
    """A file a customer (or an agent) attached (handoff.documents). A file
    sent before the ticket exists belongs to the conversation and is linked
    to the ticket when it is created."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, index=True
    )
    uploader: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="stored")
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentBlob(Base):
    """A document's bytes in the database (``HANDOFF_DOCUMENT_STORE=sql``):
    what every replica of the service reaches."""

    __tablename__ = "document_blobs"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TicketContact(Base):
    """One way a customer reached a ticket: the conversation, form posting
    or e-mail thread it came from (handoff.services.intake). A ticket's own
    conversation is its first contact; a contact on the same problem from
    another channel joins the ticket with a row here. ``split_at``: a
    supervisor took the contact back out (it became its own ticket,
    ``split_to_ticket_id``)."""

    __tablename__ = "ticket_contacts"
    __table_args__ = (
        UniqueConstraint("ticket_id", "conversation_id", name="uq_ticket_contacts_conversation"),
        Index("ix_ticket_contacts_conversation", "conversation_id"),
        Index("ix_ticket_contacts_email", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    split_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    split_to_ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MailMessage(Base):
    """A Message-ID the desk has seen or sent (handoff.mail): an inbound
    mail is handled once however often it is delivered, and a reply's
    In-Reply-To / References finds its ticket (or its draft)."""

    __tablename__ = "mail_messages"
    __table_args__ = (UniqueConstraint("message_id", name="uq_mail_messages_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, index=True
    )
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_drafts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# pending: waiting for the relay (retried with backoff); sent: the relay accepted it
OUTBOUND_STATUSES = ("pending", "sent")


class OutboundMail(Base):
    """An e-mail the desk sends: an agent's reply on a request that came by
    e-mail or form, an acknowledgement, or an automatic question. Written in
    the transaction that decides to send it, sent by the relay worker, so a
    relay that is down delays it and nothing is sent twice (``message_id``
    is fixed when the row is written)."""

    __tablename__ = "outbound_mail"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_outbound_mail_message_id"),
        Index("ix_outbound_mail_due", "status", "next_attempt_at"),
        Index("ix_outbound_mail_to", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True, index=True
    )
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_drafts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # the agent reply (messages.id) this mail carries; its delivered_at is set when the relay accepts it
    message_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # reply | ack | ask | refusal
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # counts against the per-sender hourly limit
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(998))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255))
    in_reply_to: Mapped[str | None] = mapped_column(String(255), nullable=True)
    references: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MailDraft(Base):
    """A request that came by e-mail and waits on its sender before an agent
    sees it: the birth date of a sender not known to be adult, or what
    triage could not read. The sender's answer (a reply to the desk's
    question) completes it and it becomes a ticket (``ticket_id``)."""

    __tablename__ = "mail_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(998))
    # the customer's own words so far (masked) and the triage values read from them
    text: Mapped[str] = mapped_column(Text)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    missing: Mapped[list[str]] = mapped_column(JSON)  # birth_date | topic | transaction_type | ...
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | converted | refused
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MailSender(Base):
    """What the desk knows of an e-mail address: that its owner passed the
    age check (a birth date by mail, or a signed-in form), never the birth
    date itself."""

    __tablename__ = "mail_senders"

    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    adult_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    account_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateMark(Base):
    """One counted act under a hashed key (a form posting per client address
    or per e-mail address): sliding-window limits every replica shares."""

    __tablename__ = "rate_marks"
    __table_args__ = (Index("ix_rate_marks_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationLanguage(Base):
    """A conversation's language, from the bot's ``language`` slot (the last
    one set): the editors' figures are per language."""

    __tablename__ = "conversation_languages"

    conversation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# what an editor decided about a message the bot handled badly
REVIEW_DECISIONS = ("intent", "faq", "new_faq", "right", "noise")


class ReviewDecision(Base):
    """An editor's decision on one customer line of the review inbox; a
    decided line leaves the inbox. ``text`` is the masked line as stored."""

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("event_key", name="uq_review_decisions_event_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    editor: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# training: started; failed: could not train; ready: trained and scored;
# live: answering customers; retired: was live, replaced
MODEL_STATUSES = ("training", "failed", "ready", "live", "retired")


class ModelVersion(Base):
    """A model the editors trained (or the one Rasa started with), its scores
    on the held-out sets and where it is in its life."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    understood: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
