"""What the customer panel's API takes and answers (``/panel/api``), as
pydantic models in the style of handoff/api/bodies.py: requests refuse
unknown fields, answers list every field they carry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from handoff.api.bodies import Answer, DocumentInfo, FilledMessageText, RequestBody, Status, Timestamp
from handoff.services.panel_timeline import STEPS
from support_rules.verification import REQUEST_STEPS

__all__ = [
    "PanelSignIn",
    "PanelMessage",
    "PanelSignedIn",
    "PanelSignedOut",
    "PanelRequests",
    "PanelRequestDetail",
    "PanelMessageAdded",
    "PanelDocument",
    "PanelDocumentAdded",
]

Step = Annotated[str, Field(json_schema_extra={"enum": list(STEPS)})]


# requests


class PanelChat(RequestBody):
    """The tab's web chat conversation, as the chat keeps it (sessionStorage):
    checked, never trusted; one that does not prove itself links nothing."""

    id: Annotated[str, Field(min_length=1, max_length=255, description="the chat's conversation id")]
    secret: Annotated[str, Field(min_length=1, max_length=255, description="the secret the chat was issued for it")]


class PanelSignIn(RequestBody):
    token: Annotated[str, Field(min_length=1, max_length=4096, description="the platform's signed customer token")]
    conversation: Annotated[
        PanelChat | None,
        Field(description="an anonymous chat of this tab: its requests of no account become the customer's"),
    ] = None


class PanelMessage(RequestBody):
    text: FilledMessageText
    client_id: Annotated[
        str | None,
        Field(
            min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="makes a retried message count once"
        ),
    ] = None


# answers


class PanelCustomer(Answer):
    username: str


class PanelSignedIn(Answer):
    customer: PanelCustomer
    language: str | None
    expires_at: Timestamp
    linked: list[str] = Field(description="numbers of the chat's requests linked to the account by this sign-in")


class PanelSignedOut(Answer):
    signed_out: bool


class PanelNames(Answer):
    tr: str
    en: str


class PanelCatalogueName(Answer):
    id: str
    name: PanelNames


class PanelDocumentNeeded(Answer):
    id: str
    name: PanelNames


class PanelVerification(Answer):
    """Where a verification request stands (support_rules.verification.request_step)."""

    status: Annotated[str, WithJsonSchema({"type": "string", "enum": list(REQUEST_STEPS)})]
    reason_id: str | None
    reason: PanelNames | None = Field(description="the rejection's reason (data/verification.yml)")
    decided_at: Timestamp | None
    documents_needed: list[PanelDocumentNeeded]


class PanelRequest(Answer):
    number: str
    status: Status
    open: bool
    archived: bool
    topic: PanelCatalogueName
    department: PanelCatalogueName
    channel: str
    created_at: Timestamp | None
    updated_at: Timestamp | None
    verification: PanelVerification | None = Field(description="None for an ordinary support request")


class PanelRequests(Answer):
    customer: PanelCustomer
    open: list[PanelRequest]
    closed: list[PanelRequest]
    archived: list[PanelRequest]
    max_document_bytes: int = Field(description="the largest document the panel takes (HANDOFF_DOCUMENT_MAX_BYTES)")


class PanelStep(Answer):
    step: Step
    at: Timestamp | None
    current: bool
    agent: str | None
    queue_position: int | None
    expected_wait_seconds: int | None


class PanelLine(Answer):
    id: int
    sender: str
    text: str
    created_at: Timestamp
    agent: str | None
    channel: str | None


class PanelDocument(DocumentInfo):
    url: str = Field(description="the bytes, through the panel (its session cookie): 404 to anyone else")
    sender: Literal["customer", "agent"] = Field(description="who attached it")


class PanelRequestDetail(PanelRequest):
    can_write: bool
    timeline: list[PanelStep]
    transcript: list[PanelLine]
    documents: Annotated[
        list[PanelDocument], Field(description="every document of the request: from the chat, the panel or an agent")
    ]


class PanelMessageAdded(Answer):
    message: PanelLine


class PanelDocumentAdded(Answer):
    document: PanelDocument
