"""Request bodies: the handoff summary (JSON Schema shared with the bot) and
small typed bodies for the agent API, rejecting unknown fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator, FormatChecker

from handoff.errors import BadRequest, PayloadTooLarge, Unprocessable

__all__ = [
    "SummaryValidator",
    "Field",
    "parse_body",
    "parse_json",
    "LOGIN",
    "REPLY",
    "RESOLVE",
    "TRANSFER",
    "BOT_MESSAGE",
    "EMPTY",
]

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.tzinfo is not None


@_formats.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


class SummaryValidator:
    """Validates summaries against ``schemas/handoff_summary.schema.json``."""

    def __init__(self, schema_path: Path) -> None:
        with open(schema_path, encoding="utf-8") as fh:
            schema = json.load(fh)
        Draft202012Validator.check_schema(schema)
        self._validator = Draft202012Validator(schema, format_checker=_formats)

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
class Field:
    type: type | tuple[type, ...]
    required: bool = True
    max_len: int | None = None
    max_bytes: int | None = None
    choices: tuple[str, ...] | None = None


def parse_json(raw: bytes | None, *, max_bytes: int) -> Any:
    if raw is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body larger than {max_bytes} bytes")
    if not raw:
        raise BadRequest("request body must be JSON", code="invalid_json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body must be JSON", code="invalid_json") from None


def parse_body(data: Any, spec: Mapping[str, Field]) -> dict[str, Any]:
    """Check a decoded JSON object against ``spec``: no unknown fields, right types."""
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object", code="invalid_body")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    out: dict[str, Any] = {}
    for name, f in spec.items():
        if name not in data or data[name] is None:
            if f.required:
                raise BadRequest(f"missing field: {name}", code="missing_field")
            continue
        value = data[name]
        if isinstance(value, bool) and f.type is not bool:
            raise BadRequest(f"field {name} has the wrong type", code="wrong_type")
        if not isinstance(value, f.type):
            raise BadRequest(f"field {name} has the wrong type", code="wrong_type")
        if isinstance(value, str):
            if f.max_bytes is not None and len(value.encode("utf-8")) > f.max_bytes:
                raise PayloadTooLarge(f"field {name} larger than {f.max_bytes} bytes")
            if f.max_len is not None and len(value) > f.max_len:
                raise BadRequest(f"field {name} longer than {f.max_len}", code="too_long")
            if f.required and not value.strip():
                raise BadRequest(f"field {name} must not be empty", code="empty_field")
        if f.choices is not None and value not in f.choices:
            raise BadRequest(f"field {name} must be one of {', '.join(f.choices)}", code="invalid_choice")
        out[name] = value
    return out


MESSAGE_BYTES = 4 * 1024

EMPTY: dict[str, Field] = {}
LOGIN = {"username": Field(str, max_len=64), "password": Field(str, max_len=256)}
REPLY = {"text": Field(str, max_bytes=MESSAGE_BYTES), "client_id": Field(str, required=False, max_len=64)}
RESOLVE = {"note": Field(str, required=False, max_bytes=MESSAGE_BYTES)}
TRANSFER = {"department": Field(str, max_len=32), "note": Field(str, required=False, max_bytes=MESSAGE_BYTES)}
BOT_MESSAGE = {
    "source_id": Field(str, max_len=255),
    "sender": Field(str, choices=("customer", "bot", "system")),
    "text": Field(str, max_bytes=MESSAGE_BYTES),
    "timestamp": Field(str, required=False, max_len=64),
}
