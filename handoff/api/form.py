"""The request form: a page (static files, no build step) and its API under
``/form`` for customers who write without the chat, signed in or not.

``POST /form/api/requests`` takes multipart/form-data (the fields and up
to ``HANDOFF_FORM_MAX_FILES`` documents). Its size is checked against the
declared length before a byte is read, and while reading (413
``body_too_large``). A signed-in customer is known by the panel's session
cookie (set for ``/form`` too at the panel's sign-in): no birth date, the
account's username. The posting's key (``Idempotency-Key``) makes a retry
answer the first try's request; a filled honeypot field (``website``)
answers as a success and creates nothing. Field problems answer 422
``invalid_fields`` with a code per field; a customer under 18 gets 422
``under_18`` and nothing is kept. The catalogue's topics and transaction
types come in the page's language from ``/form/catalogue.json``.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse, file

from handoff.api.common import CUSTOMER_PAGE_HEADERS, client_address, read_capped, transaction
from handoff.api.form_bodies import FormCatalogue, FormPostingBody, FormRequestAnswer, FormSessionAnswer
from handoff.api.spec import Header, file_route, operation
from handoff.api.webchat import WEBCHAT_DIR
from handoff.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from handoff.mail.serve import wake_mail_worker
from handoff.panel_session import FORM_PATH, PANEL_COOKIE, PanelSession, PanelSessionSigner
from handoff.services import panel as panel_svc
from handoff.services.form_checks import FORM_LIMITS, UNDER_18, FormFields, check_form
from handoff.services.form_requests import FormLimits, Upload, receive_form_documents, submit_form
from handoff.services.intake import Triage
from handoff.services.outbound_mail import MailTexts, load_mail_texts
from handoff.settings import Settings
from support_rules.catalogue import load_catalogue
from support_rules.language import fallback_language
from support_rules.tickets import QUEUED, format_ticket_number

__all__ = ["bp", "FORM_DIR", "FORM_PATH"]

bp = Blueprint("form")

FORM_DIR = Path(__file__).resolve().parent.parent / "form"
_ASSETS = {
    "form.js": "text/javascript; charset=utf-8",
    "form.css": "text/css; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "documents_i18n.js": "text/javascript; charset=utf-8",
}
_SHARED = {"documents_i18n.js": WEBCHAT_DIR}
_HEADERS = CUSTOMER_PAGE_HEADERS
_NO_STORE = {"Cache-Control": "no-store"}
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_FIELDS = tuple(f for f in FormFields.__dataclass_fields__)
_FILE_OVERHEAD = 64 * 1024  # the multipart framing around each file


def _app_triage(request: Request) -> Triage:
    return cast(Triage, request.app.ctx.triage)


def _mail_texts(request: Request) -> MailTexts:
    ctx = request.app.ctx
    texts = getattr(ctx, "form_mail_texts", None)
    if texts is None:
        texts = ctx.form_mail_texts = load_mail_texts(ctx.settings.mail_texts_path)
    return cast(MailTexts, texts)


def _customer(request: Request) -> PanelSession | None:
    signer = getattr(request.app.ctx, "panel_signer", None) or PanelSessionSigner(request.app.ctx.settings.secret_key)
    return cast(PanelSessionSigner, signer).verify(request.cookies.get(PANEL_COOKIE))


# the page


@bp.get("/form/")
@file_route
async def index(request: Request) -> HTTPResponse:
    return await file(FORM_DIR / "index.html", headers=_HEADERS, mime_type="text/html; charset=utf-8")


@lru_cache(maxsize=8)
def _choices(path: Path, _modified_ns: int, language: str) -> dict[str, list[dict[str, Any]]]:
    """Read again when the editors change the catalogue (the mtime is part of the key)."""
    catalogue = load_catalogue(path)
    return {
        "topics": [{"id": t.id, "name": t.label(language)} for t in catalogue.topics],
        "transaction_types": [
            {"id": t.id, "name": t.label(language), "skips_date": t.skips_date} for t in catalogue.transaction_types
        ],
    }


@bp.get("/form/catalogue.json")
@operation(
    "The request form's choices (data/catalogue.yml) in the page's language (?lang=tr|en) and its limits",
    auth=None,
    answers={200: FormCatalogue},
)
async def catalogue(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    language = fallback_language((request.args.get("lang") or "").lower())
    path = settings.catalogue_path
    return json(
        {
            "language": language,
            **_choices(path, path.stat().st_mtime_ns, language),
            "limits": dict(FORM_LIMITS),
            "max_files": settings.form_max_files,
            "max_document_bytes": settings.document_max_bytes,
            "transaction_max_age_days": settings.transaction_max_age_days,
            "today": _app_triage(request).today().isoformat(),
        },
        headers=_NO_STORE,
    )


@bp.get("/form/<name:str>")
@file_route
async def asset(request: Request, name: str) -> HTTPResponse:
    if name not in _ASSETS:
        raise NotFound("no such file")
    return await file(_SHARED.get(name, FORM_DIR) / name, headers=_HEADERS, mime_type=_ASSETS[name])


# the API


@bp.get("/form/api/session")
@operation(
    "Request form: who is signed in (the customer panel's session cookie), or null",
    auth=None,
    answers={200: FormSessionAnswer},
)
async def who(request: Request) -> HTTPResponse:
    customer = _customer(request)
    return json({"customer": {"username": customer.username} if customer else None}, headers=_NO_STORE)


def _cap(settings: Settings) -> int:
    return settings.max_body_bytes + settings.form_max_files * (settings.document_max_bytes + _FILE_OVERHEAD)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge("the request is larger than the form allows", code="body_too_large")


async def _read_body(request: Request, cap: int) -> None:
    request.body = await read_capped(request, cap, _too_large)


def _posting(request: Request) -> tuple[FormFields, list[Upload]]:
    if not request.content_type.startswith("multipart/form-data"):
        raise BadRequest("send the form as multipart/form-data", code="malformed_body")
    try:
        form, files = request.form, request.files
    except Exception:  # a malformed multipart body
        raise BadRequest("the form could not be read", code="malformed_body") from None
    values = {name: form.get(name) for name in _FIELDS} if form else {}
    uploads = [Upload(f.name or "", bytes(f.body)) for f in (files.getlist("files") or [])] if files else []
    return FormFields(**values), uploads


def _decoy(settings: Settings) -> dict[str, Any]:
    """What a filled honeypot gets: the look of a request, and nothing made."""
    return {
        "ticket_number": format_ticket_number(secrets.randbelow(90_000) + 10_000),
        "status": QUEUED,
        "department": "other",
        "queue_position": secrets.randbelow(5) + 1,
        "expected_wait_seconds": settings.default_handle_seconds,
        "joined": False,
        "acknowledgement_mail": False,
        "documents": [],
    }


@bp.post("/form/api/requests", stream=True)
@operation(
    "Request form: open a request (multipart/form-data: the fields and up to HANDOFF_FORM_MAX_FILES documents); "
    "triaged as the chat's, or added to the customer's open request on the same topic (joined); "
    "a retry with the same Idempotency-Key answers the same request",
    auth=None,
    body=FormPostingBody,
    body_type="multipart/form-data",
    headers=(
        Header(
            "Idempotency-Key",
            "the page's submission key (a UUID): a retry with it answers the same request",
            schema={"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
        ),
    ),
    answers={201: FormRequestAnswer, 200: FormRequestAnswer},
    errors=(422, 429),
)
async def post_request(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    key = request.headers.get("idempotency-key", "").strip()
    if not _KEY.match(key):
        raise BadRequest("Idempotency-Key header required (8-64 letters, digits, -)", code="idempotency_key_required")
    await _read_body(request, _cap(settings))
    fields, uploads = _posting(request)
    if fields.website:
        return json(_decoy(settings), status=201, headers=_NO_STORE)
    if len(uploads) > settings.form_max_files:
        return _invalid({"files": "too_many"})
    customer = _customer(request)
    triage = _app_triage(request)
    check = check_form(
        fields,
        catalogue=triage.catalogue,
        today=triage.today(),
        max_age_days=settings.transaction_max_age_days,
        username_pattern=settings.username_pattern,
        signed_in=customer is not None,
    )
    if check.refusal == UNDER_18:
        raise Unprocessable("our services are for people over 18 only; nothing was kept", code=UNDER_18)
    if check.form is None:
        return _invalid(check.errors)
    async with transaction(request) as session:
        posting = await submit_form(
            session=session,
            form=check.form,
            key=key,
            account_username=customer.username if customer else None,
            client_address=client_address(request),
            triage=triage,
            limits=FormLimits.from_settings(settings),
            texts=_mail_texts(request),
            mail_domain=settings.mail_address.rpartition("@")[2] or "localhost",
            mail_hourly_limit=settings.mail_auto_replies_per_hour,
        )
        result, ticket = posting.result, posting.result.ticket
        documents: list[dict[str, Any]] = []
        if not posting.repeated and uploads:
            documents = await receive_form_documents(
                session=session,
                ticket=ticket,
                key=key,
                uploads=uploads,
                store=request.app.ctx.document_store,
                scanner=request.app.ctx.scanner,
                settings=settings,
            )
        answer = {**result.as_json(), "acknowledgement_mail": posting.mail_queued, "documents": documents}
    if posting.mail_queued:
        wake_mail_worker(request.app)
    if result.created:
        await request.app.ctx.bus.publish(
            {"type": "ticket.queued", "ticket_number": ticket.number, "department": ticket.department_id}
        )
    elif not posting.repeated:
        await request.app.ctx.bus.publish(panel_svc.message_update(ticket))
    return json(answer, status=200 if posting.repeated else 201, headers=_NO_STORE)


def _invalid(errors: dict[str, str]) -> HTTPResponse:
    message = "; ".join(f"{field}: {code}" for field, code in sorted(errors.items()))
    return json({"error": {"code": "invalid_fields", "message": message, "fields": errors}}, status=422)
