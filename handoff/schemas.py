"""Checking what callers send: the handoff summary and the request bodies.

The summary is checked against ``schemas/handoff_summary.schema.json``, the
JSON Schema the bot shares (``SummaryValidator``). Every other body is a
pydantic model (``handoff/api/bodies.py``): the model validates the body and
is what the OpenAPI document shows (``handoff/api/spec.py``), so the two
cannot drift. ``validate_body`` turns pydantic's errors into this service's
JSON errors (``handoff/errors.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from handoff.errors import ApiError, BadRequest, PayloadTooLarge, Unprocessable
from support_rules.limits import MAX_MESSAGE_CHARS

__all__ = [
    "SummaryValidator",
    "BodyLimits",
    "TOO_MANY_BYTES",
    "OUT_OF_RANGE",
    "INVALID_DATE",
    "MAX_INTEGER",
    "parse_json",
    "validate_body",
    "load_summary_schema",
]

Model = TypeVar("Model", bound=BaseModel)

# the pydantic error type of a text longer than its byte limit (bodies.py)
TOO_MANY_BYTES = "too_many_bytes"
# the pydantic error type of a value outside what the service can store
# (bodies.py); it answers 400 like every other bad value
OUT_OF_RANGE = "out_of_range"
# the pydantic error type of a text that is not a calendar day (bodies.py)
INVALID_DATE = "invalid_date"
# the largest integer a body or a query may carry: a signed 64-bit column's
MAX_INTEGER = 2**63 - 1

_formats = FormatChecker()


@_formats.checks("date-time", raises=(ValueError, OverflowError))
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return False
    parsed.astimezone(timezone.utc)  # a moment outside years 1-9999 once in UTC cannot be stored
    return True


@_formats.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


def load_summary_schema(schema_path: Path) -> dict[str, Any]:
    with open(schema_path, encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    Draft202012Validator.check_schema(schema)
    return schema


class SummaryValidator:
    """Validates summaries against ``schemas/handoff_summary.schema.json``."""

    def __init__(self, schema_path: Path) -> None:
        self.schema = load_summary_schema(schema_path)
        self._validator = Draft202012Validator(self.schema, format_checker=_formats)

    def validate(self, summary: Any) -> None:
        errors = sorted(self._validator.iter_errors(summary), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(root)"
            raise Unprocessable(f"summary invalid at {where}: {first.message}", code="invalid_summary")
        if isinstance(summary, dict):
            # the transaction date is a calendar date, not only a pattern match
            tx = summary.get("transaction_date")
            if tx is not None:
                try:
                    date.fromisoformat(tx)
                except ValueError:
                    raise Unprocessable(
                        "summary invalid at transaction_date: not a calendar date",
                        code="invalid_summary",
                    ) from None


@dataclass(frozen=True)
class BodyLimits:
    """Limits a body is checked against, from the settings (the validation
    context of the models in bodies.py)."""

    message_bytes: int
    message_chars: int = MAX_MESSAGE_CHARS


class _OutOfRange(Exception):
    pass


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _OutOfRange(text)
    return number


def _bounded(text: str) -> int:
    number = int(text)
    if abs(number) > MAX_INTEGER:
        raise _OutOfRange(text)
    return number


def parse_json(raw: bytes | None, *, max_bytes: int) -> Any:
    """The body as JSON (RFC 8259: no NaN or Infinity); a number beyond a
    double or a signed 64-bit integer answers 400 (``out_of_range``)."""
    if raw is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body larger than {max_bytes} bytes")
    if not raw:
        raise BadRequest("request body must be JSON", code="invalid_json")
    try:
        return json.loads(raw, parse_constant=_not_json, parse_float=_finite, parse_int=_bounded)
    except _OutOfRange:
        raise BadRequest(f"numbers must be finite and at most {MAX_INTEGER} in size", code=OUT_OF_RANGE) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body must be JSON", code="invalid_json") from None


def validate_body(model: type[Model], data: Any, *, limits: BodyLimits | None = None) -> Model:
    """``data`` (decoded JSON, or query arguments) as ``model``; a field sent
    as ``null`` counts as not sent. Errors answer 400 (413 for a text over
    its byte limit), naming the field."""
    if isinstance(data, dict):
        data = {name: value for name, value in data.items() if value is not None}
    try:
        return model.model_validate(data, context={"limits": limits} if limits else None)
    except ValidationError as exc:
        raise _api_error(exc.errors(include_url=False, include_input=False)) from None


def _field(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(body)"


def _api_error(errors: list[ErrorDetails]) -> ApiError:
    unknown = sorted(_field(e) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    first = errors[0]
    kind, name = first["type"], _field(first)
    if not first["loc"]:
        return BadRequest("request body must be a JSON object", code="invalid_body")
    if kind == "missing":
        return BadRequest(f"missing field: {name}", code="missing_field")
    if kind == TOO_MANY_BYTES:
        return PayloadTooLarge(f"field {name} {first['msg']}")
    if kind in (OUT_OF_RANGE, INVALID_DATE):
        return BadRequest(f"field {name} {first['msg']}", code=kind)
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        return BadRequest(f"field {name} {first['msg'].lower()}", code=OUT_OF_RANGE)
    if kind == "string_too_long":
        return BadRequest(f"field {name} longer than {first.get('ctx', {}).get('max_length')}", code="too_long")
    if kind == "string_pattern_mismatch":
        return BadRequest(f"field {name} must not be empty", code="empty_field")
    if kind == "literal_error":
        return BadRequest(f"field {name} {first['msg'].lower()}", code="invalid_choice")
    if kind.endswith(("_type", "_parsing")):
        return BadRequest(f"field {name} has the wrong type", code="wrong_type")
    return BadRequest(f"field {name}: {first['msg']}", code="invalid_field")
