"""What the customer panel's API takes and answers (``/panel/api``), as
pydantic models in the style of handoff/api/bodies.py: requests refuse
unknown fields, answers list every field they carry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from handoff.api.bodies import Answer, DocumentInfo, FilledMessageText, RequestBody, Status, Timestamp
from handoff.services.panel_timeline import STEPS

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


class PanelSignIn(RequestBody):
    token: Annotated[str, Field(min_length=1, max_length=4096, description="the platform's signed customer token")]


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


class PanelSignedOut(Answer):
    signed_out: bool


class PanelNames(Answer):
    tr: str
    en: str


class PanelCatalogueName(Answer):
    id: str
    name: PanelNames


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
