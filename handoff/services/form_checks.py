"""What a request form posting must be, checked field by field (plain
functions, no database): the page checks the same things first, the
service decides.

Every problem is a code per field (``FIELD_ERRORS``) that the page shows
next to that field in the reader's language. A birth date that proves the
customer under 18 is no field error but a refusal (``UNDER_18``): nothing
of the posting is kept. A signed-in customer's age and username come from
the platform's token, so neither is read from the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from support_rules.catalogue import Catalogue
from support_rules.dates import check_birth_date, read_transaction_date
from support_rules.language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from support_rules.language_detect import detect_language
from support_rules.limits import MAX_DESCRIPTION_CHARS
from support_rules.prechat import PRECHAT_LIMITS, valid_email

__all__ = ["FormFields", "CheckedForm", "FormCheck", "check_form", "FIELD_ERRORS", "UNDER_18", "FORM_LIMITS"]

UNDER_18: Final = "under_18"
# field -> the codes its problems answer with
FIELD_ERRORS: Final = {
    "topic": ("required", "unknown"),
    "transaction_type": ("unknown",),
    "transaction_date": ("required", "invalid", "future", "too_old"),
    "username": ("invalid",),
    "email": ("required", "invalid"),
    "description": ("required", "too_long"),
    "birth_date": ("required", "invalid", "future", "implausible"),
    "language": ("unknown",),
}
# the longest value of each text field, in characters (the page's maxlength too)
FORM_LIMITS: Final = {
    "username": PRECHAT_LIMITS["username"],
    "email": PRECHAT_LIMITS["email"],
    "description": MAX_DESCRIPTION_CHARS,
}
_SHORT = 64  # ids and dates


@dataclass(frozen=True)
class FormFields:
    """The posting's text fields as sent (each may be missing)."""

    topic: str | None = None
    transaction_type: str | None = None
    transaction_date: str | None = None
    username: str | None = None
    email: str | None = None
    description: str | None = None
    birth_date: str | None = None
    language: str | None = None
    website: str | None = None  # the honeypot: people never see it


@dataclass(frozen=True)
class CheckedForm:
    topic_id: str
    transaction_type_id: str | None
    transaction_date: date | None
    username: str | None
    email: str | None
    description: str
    language: str


@dataclass(frozen=True)
class FormCheck:
    form: CheckedForm | None
    errors: dict[str, str]
    refusal: str | None = None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _date_error(error: str | None) -> str:
    return error if error in ("future", "too_old", "implausible") else "invalid"


def check_form(
    fields: FormFields,
    *,
    catalogue: Catalogue,
    today: date,
    max_age_days: int,
    username_pattern: str,
    signed_in: bool,
) -> FormCheck:
    """The posting checked; ``errors`` maps a field to its problem's code."""
    errors: dict[str, str] = {}
    topic_id = _text(fields.topic)
    topic = catalogue.topic(topic_id) if topic_id and len(topic_id) <= _SHORT else None
    if not topic_id:
        errors["topic"] = "required"
    elif topic is None:
        errors["topic"] = "unknown"
    type_id = _text(fields.transaction_type) or None
    kind = catalogue.transaction_type(type_id) if type_id and len(type_id) <= _SHORT else None
    if type_id and kind is None:
        errors["transaction_type"] = "unknown"
    when: date | None = None
    raw_date = _text(fields.transaction_date)
    if raw_date:
        reading = read_transaction_date(raw_date[:_SHORT], today, max_age_days)
        if reading.value is None:
            errors["transaction_date"] = _date_error(reading.error)
        when = reading.value
    elif kind is not None and not kind.skips_date:
        errors["transaction_date"] = "required"
    username = None if signed_in else _text(fields.username) or None
    if username is not None and (
        len(username) > FORM_LIMITS["username"] or not re.fullmatch(username_pattern, username)
    ):
        errors["username"] = "invalid"
    email = _text(fields.email) or None
    if email is None and not signed_in:
        errors["email"] = "required"
    elif email is not None and not valid_email(email):
        errors["email"] = "invalid"
    description = _text(fields.description)
    if not description:
        errors["description"] = "required"
    elif len(description) > FORM_LIMITS["description"]:
        errors["description"] = "too_long"
    language = _text(fields.language).lower() or None
    if language is not None and language not in SUPPORTED_LANGUAGES:
        errors["language"] = "unknown"
    refusal = None
    if not signed_in:
        raw_birth = _text(fields.birth_date)
        if not raw_birth:
            errors["birth_date"] = "required"
        else:
            age = check_birth_date(raw_birth[:_SHORT], today)
            if age.outcome == UNDER_18:
                refusal = UNDER_18
            elif age.outcome != "over_18":
                errors["birth_date"] = _date_error(age.outcome)
    if refusal is not None:
        return FormCheck(None, {}, refusal)  # whatever else was wrong: nothing is kept
    if errors or topic is None:
        return FormCheck(None, errors)
    return FormCheck(
        CheckedForm(
            topic_id=topic.id,
            transaction_type_id=kind.id if kind else None,
            transaction_date=when,
            username=username,
            email=email.lower() if email else None,
            description=description,
            language=language or detect_language(description) or DEFAULT_LANGUAGE,
        ),
        {},
    )
