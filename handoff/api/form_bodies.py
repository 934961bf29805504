"""What the request form's API takes and answers (``/form``), as pydantic
models in the style of handoff/api/bodies.py. The posting is
multipart/form-data: its text fields and its files, read by the handler
(handoff.api.form); the model describes it for the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema

from handoff.api.bodies import Answer, DocumentInfo, RequestBody, Status
from handoff.services.form_checks import FORM_LIMITS

__all__ = ["FormPostingBody", "FormRequestAnswer", "FormCatalogue", "FormSessionAnswer"]

_Text = Annotated[str | None, Field(max_length=64)]


class FormPostingBody(RequestBody):
    """multipart/form-data; the page sends its submission key as ``Idempotency-Key``."""

    topic: Annotated[str, Field(max_length=64, description="a topic id of GET /form/catalogue.json")]
    transaction_type: Annotated[_Text, Field(description="a transaction type id; empty: none")] = None
    transaction_date: Annotated[
        _Text, Field(description="YYYY-MM-DD; not in the future nor older than TRANSACTION_MAX_AGE_DAYS")
    ] = None
    username: Annotated[
        str | None,
        Field(max_length=FORM_LIMITS["username"], description="the platform username (signed in: the account's)"),
    ] = None
    email: Annotated[
        str | None,
        Field(max_length=FORM_LIMITS["email"], description="required unless signed in: the answer goes there"),
    ] = None
    description: Annotated[str, Field(max_length=FORM_LIMITS["description"])]
    birth_date: Annotated[_Text, Field(description="YYYY-MM-DD; required unless signed in (checked, never stored)")] = (
        None
    )
    language: Annotated[str | None, Field(description="tr or en: the page's; empty: read from the description")] = None
    website: Annotated[str | None, Field(description="leave empty (people never see this field)")] = None
    files: Annotated[
        list[bytes] | None,
        WithJsonSchema({"type": "array", "items": {"type": "string", "format": "binary"}}),
        Field(description="up to HANDOFF_FORM_MAX_FILES documents (JPEG, PNG, WebP or PDF)"),
    ] = None


class FormDocumentOutcome(Answer):
    filename: str
    document: DocumentInfo | None = None
    refused: Annotated[str | None, Field(description="why the file was not taken (a document refusal code)")] = None


class FormRequestAnswer(Answer):
    ticket_number: str
    status: Status
    department: str
    queue_position: int | None
    expected_wait_seconds: int | None
    joined: Annotated[bool, Field(description="added to the customer's open request on the same topic")]
    acknowledgement_mail: Annotated[bool, Field(description="an acknowledgement e-mail was queued")]
    documents: list[FormDocumentOutcome]


class FormChoice(Answer):
    id: str
    name: str
    skips_date: bool = False


class FormCatalogue(Answer):
    language: str
    topics: list[FormChoice]
    transaction_types: list[FormChoice]
    limits: dict[str, int]
    max_files: int
    max_document_bytes: int
    transaction_max_age_days: int
    today: Annotated[str, Field(description="the desk's date (SUPPORT_TIMEZONE), YYYY-MM-DD")]


class FormCustomer(Answer):
    username: str


class FormSessionAnswer(Answer):
    customer: Annotated[FormCustomer | None, Field(description="the signed-in customer; null: anonymous")]
