"""What the API takes and answers, as pydantic models: one definition that
validates a request (``handoff.schemas.validate_body``) and that the OpenAPI
document shows (``handoff/api/spec.py``). Requests refuse unknown fields
and take no type conversion; answers list every field they carry, so a
test holds the service's real answers against them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from handoff.editor.figures import MAX_WEEKS
from handoff.models import MAX_ROW_ID
from handoff.schemas import INVALID_DATE, TOO_MANY_BYTES, BodyLimits
from handoff.services.conversations import MAX_PAGE
from support_rules.tickets import TICKET_STATUSES
from support_rules.verification import REQUEST_KINDS, VERIFICATION_STATUSES

__all__ = [
    "RequestBody",
    "Answer",
    "Login",
    "Reply",
    "Resolve",
    "Transfer",
    "VerificationDecision",
    "Empty",
    "TicketSearch",
    "TranscriptQuery",
    "SUMMARY_REF",
]

SUMMARY_REF = "#/components/schemas/HandoffSummary"
# marks in the models' JSON Schemas that spec.py completes: a text's byte
# limit (the number comes from the settings), the shared summary schema
MAX_BYTES_KEY = "x-max-bytes"
SUMMARY_KEY = "x-handoff-summary"


def _within_message_bytes(value: str, info: ValidationInfo) -> str:
    limits = (info.context or {}).get("limits")
    if not isinstance(limits, BodyLimits):
        return value
    if len(value) > limits.message_chars:
        raise PydanticCustomError(
            "string_too_long", "longer than {max_length} characters", {"max_length": limits.message_chars}
        )
    if len(value.encode("utf-8")) > limits.message_bytes:
        raise PydanticCustomError(TOO_MANY_BYTES, "larger than {limit} bytes", {"limit": limits.message_bytes})
    return value


# the last day a search may name: the day after it must exist too
_LAST_DAY = date.max - timedelta(days=1)


def _calendar_day(value: str) -> str:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None or day > _LAST_DAY:
        raise PydanticCustomError(
            INVALID_DATE,
            "must be a date (YYYY-MM-DD) from {first} to {last}",
            {"first": str(date.min), "last": str(_LAST_DAY)},
        )
    return value


# a calendar day as a query gives it, YYYY-MM-DD, within the calendar
Day = Annotated[
    str,
    AfterValidator(_calendar_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
]
# a row id or an offset: what an id column holds
RowId = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]

# a required text: something besides white space
Filled = Annotated[str, Field(pattern=r"\S")]
# a message text: at most the setting's UTF-8 bytes (413 beyond)
_WITHIN_BYTES = AfterValidator(_within_message_bytes)
_BYTES_SHOWN = Field(json_schema_extra={MAX_BYTES_KEY: True})
MessageText = Annotated[str, _WITHIN_BYTES, _BYTES_SHOWN]
FilledMessageText = Annotated[Filled, _WITHIN_BYTES, _BYTES_SHOWN]
Status = Annotated[str, WithJsonSchema({"type": "string", "enum": list(TICKET_STATUSES)})]
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Summary = Annotated[dict[str, Any], WithJsonSchema({SUMMARY_KEY: True})]
RequestKind = Annotated[str, WithJsonSchema({"type": "string", "enum": list(REQUEST_KINDS)})]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query arguments arrive as text: numbers are converted."""

    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# requests


class Empty(RequestBody):
    """No fields; the body may be left out."""


class Login(RequestBody):
    username: Annotated[Filled, Field(max_length=64)]
    password: Annotated[Filled, Field(max_length=256)]


class Reply(RequestBody):
    text: FilledMessageText
    client_id: Annotated[str | None, Field(max_length=64, description="makes a retried reply count once")] = None


class Resolve(RequestBody):
    note: MessageText | None = None


class Transfer(RequestBody):
    department: Annotated[Filled, Field(max_length=32)]
    note: MessageText | None = None


class VerificationDecision(RequestBody):
    decision: Literal["approve", "reject"]
    reason_id: Annotated[
        str | None, Field(max_length=64, description="a rejection reason of data/verification.yml; reject only")
    ] = None


class TicketSearch(Query):
    username: str | None = None
    number: str | None = None
    date_from: Annotated[Day | None, Field(alias="from", description="YYYY-MM-DD, UTC, inclusive")] = None
    date_to: Annotated[Day | None, Field(alias="to", description="YYYY-MM-DD, UTC, inclusive")] = None


class TranscriptQuery(Query):
    after: Annotated[RowId, Field(description="the next_after of the previous page")] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100


# answers


class ErrorDetail(Answer):
    code: str
    message: str
    # a form's problems, by field: each field's problem code (the request form)
    fields: dict[str, str] | None = None


class ErrorAnswer(Answer):
    error: ErrorDetail


class HandoffCreated(Answer):
    ticket_number: str
    status: Status
    department: str
    queue_position: int | None
    expected_wait_seconds: int | None
    joined: bool = Field(
        False, description="the conversation joined the customer's open request on the same topic (no new ticket)"
    )


class TicketStatusAnswer(HandoffCreated):
    updated_at: Timestamp


class AgentAnswer(Answer):
    id: int
    username: str
    display_name: str
    role: str
    departments: list[str]


class LoggedIn(Answer):
    agent: AgentAnswer
    token: str


class Me(Answer):
    agent: AgentAnswer


class LoggedOut(Answer):
    logged_out: bool


class Priority(Answer):
    level: str
    reason: str | None


class Timestamps(Answer):
    created_at: Timestamp | None
    updated_at: Timestamp | None
    assigned_at: Timestamp | None
    resolved_at: Timestamp | None
    handed_back_at: Timestamp | None
    abandoned_at: Timestamp | None
    archived_at: Timestamp | None


class CatalogueRef(Answer):
    """A topic of data/catalogue.yml, as the summary names it."""

    id: str
    label: str


class TicketAnswer(Answer):
    ticket_number: str
    status: Status
    kind: RequestKind
    department: str
    topic: CatalogueRef | None
    username: str | None
    language: str
    channel: Annotated[
        str, Field(description="where the request came from: the chat's channel (socketio, rest), email or form")
    ]
    priority: Priority
    assignee_id: int | None
    archived: bool
    timestamps: Timestamps


class QueuedTicket(TicketAnswer):
    queue_position: int
    expected_wait_seconds: int


class QueueAnswer(Answer):
    queued: list[QueuedTicket]
    mine: list[TicketAnswer]


class TicketList(Answer):
    tickets: list[TicketAnswer]


class MessageAnswer(Answer):
    id: int
    sender: str
    text: str
    agent_id: int | None
    channel: Annotated[
        str | None,
        Field(
            description="a customer line: where it came from when not the ticket's own channel (panel, email, form, "
            "chat); an agent's reply: email when it goes by e-mail; None: the ticket's channel"
        ),
    ]
    created_at: Timestamp
    delivered: bool = Field(description="an agent's reply: accepted by the customer's channel (by e-mail: the relay)")


class Texts(Answer):
    """A text of the editors' files in each language."""

    tr: str
    en: str


class CustomerVerification(Answer):
    """The ticket's customer's identity verification, from their record."""

    status: Annotated[str, WithJsonSchema({"type": "string", "enum": list(VERIFICATION_STATUSES)})]
    reason_id: str | None
    reason: Texts | None
    decided_at: Timestamp | None
    decided_by: str | None
    verified_source: bool = Field(description="decided on a ticket whose username the signed token proved")


class TicketDetail(TicketAnswer):
    summary: Summary
    resolution_note: str | None
    transcript: list[MessageAnswer]
    customer_verification: CustomerVerification


class VerificationAnswer(TicketAnswer):
    customer_verification: CustomerVerification


class RejectionReason(Answer):
    id: str
    name: Texts


class VerificationReasons(Answer):
    reasons: list[RejectionReason]


class DepartmentName(Answer):
    en: str
    tr: str


class Department(Answer):
    id: str
    name: DepartmentName


class Departments(Answer):
    departments: list[Department]


class WaitPercentiles(Answer):
    p50: float | None
    p90: float | None
    p99: float | None
    count: int


class DepartmentStats(Answer):
    department: str
    queue_length: int
    handled_today: int
    wait_seconds: WaitPercentiles


class TotalStats(Answer):
    queue_length: int
    handled_today: int
    wait_seconds: WaitPercentiles


class StatsAnswer(Answer):
    generated_at: Timestamp
    departments: list[DepartmentStats]
    total: TotalStats


class TranscriptLine(Answer):
    id: int
    kind: str
    text: str | None
    channel: str | None
    intent: str | None
    confidence: float | None
    timestamp: Timestamp


class TranscriptPage(Answer):
    conversation_id: str
    events: list[TranscriptLine]
    next_after: int | None


class Health(Answer):
    status: str


class PrechatTopic(Answer):
    id: str
    name: dict[str, str]


class PrechatLimits(Answer):
    name: int
    topic: int
    username: int
    email: int


class WebchatPrechat(Answer):
    topics: list[PrechatTopic]
    limits: PrechatLimits


class WebchatConfig(Answer):
    rasa_url: str
    socketio_path: str
    default_language: str
    max_message_chars: int
    max_message_bytes: int
    max_document_bytes: int


# documents (handoff.documents)


class DocumentUpload(RequestBody):
    """multipart/form-data with the file in the field ``file``."""

    file: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})]


class DocumentInfo(Answer):
    id: int
    filename: str
    content_type: str
    size: int
    status: str = Field(description="stored, or held: kept for a virus scan that could not run yet, served to nobody")
    created_at: Timestamp
    url: str
    is_image: bool


class DocumentAnswer(Answer):
    document: DocumentInfo


class DocumentList(Answer):
    documents: list[DocumentInfo]


class ContactInfo(Answer):
    id: int
    channel: str
    own: bool = Field(description="the ticket's own conversation (cannot be split off)")
    joined_at: Timestamp
    split_at: Timestamp | None
    split_to: str | None = Field(description="the ticket a split-off contact became")


class ContactList(Answer):
    contacts: list[ContactInfo]


# the editors' figures (handoff.editor.figures)


class FiguresQuery(Query):
    weeks: Annotated[int, Field(ge=1, le=MAX_WEEKS, description="ISO weeks up to the current one")] = 8


class ChartQuery(FiguresQuery):
    language: Annotated[
        Literal["tr", "en"] | None, Field(description="the conversations' language; all languages when left out")
    ] = None
    lang: Annotated[Literal["tr", "en"], Field(description="the language of the chart's words")] = "en"


Ratio = Annotated[float | None, Field(ge=0, le=1, description="None: nothing to divide by")]


class PeriodFigures(Answer):
    conversations: int = Field(description="conversations with a customer line, in the week of their first one")
    contained: int = Field(description="of those, the ones that never reached a person")
    containment: Ratio
    customer_lines: int
    fallback_lines: int = Field(description="customer lines understood as nlu_fallback")
    fallback_rate: Ratio
    faq_answers: int = Field(description="bot lines utter_faq/<id>")
    faq_solved: int = Field(description="FAQ answers followed by utter_faq_solved before the next one")
    deflection: Ratio
    handoffs: int = Field(description="the bot's tickets created (in the ticket's language)")


class WeekFigures(PeriodFigures):
    week: str = Field(description="ISO week, 2026-W48")


class FaqFigures(Answer):
    faq: str
    answers: int
    solved: int
    rate: Ratio


class CountedId(Answer):
    id: str
    count: int


class RouteCount(Answer):
    topic: str
    department: str = Field(description="the ticket's department now (after any transfer)")
    count: int


class HandoffFigures(Answer):
    total: int
    by_topic: list[CountedId]
    by_department: list[CountedId]
    by_route: list[RouteCount]


class LanguageFigures(Answer):
    language: str = Field(description="tr, en, or unknown (no language slot and none recognised)")
    weeks: list[WeekFigures]
    total: PeriodFigures
    faqs: list[FaqFigures]
    handoffs: HandoffFigures


class TopGroup(Answer):
    label: str
    count: int
    language: str | None


class FiguresAnswer(Answer):
    generated_at: Timestamp
    start: Timestamp
    end: Timestamp
    weeks: list[str]
    languages: list[LanguageFigures]
    handoffs: HandoffFigures
    top_groups: list[TopGroup] = Field(description="the review inbox's largest groups")
