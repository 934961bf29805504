"""Rasa's JSON-schema checks with validators built once.

Rasa 3.6 checks JSON against a schema with ``jsonschema.validate()``, which
on every call first checks the schema itself against the draft 2020-12
meta-schema and then builds a new validator. It does so on two hot paths:

- every response of the action server (``RemoteAction.
  _validate_action_result``): our turns run several custom actions (forms,
  their validation, the routing and handoff actions);
- every POST of events to the HTTP API (``rasa.server.
  validate_events_in_request_body``): how the handoff service delivers each
  agent reply and notice to the customer.

py-spy profiles of the Rasa server under load (docs/BENCHMARKS.md) put
about half of its CPU time in the first during bot conversations, and a
third in the second while agents and customers talk.

``install()`` replaces both with the same checks against the same schemas
(``RemoteAction.action_response_format_spec()``, ``EVENTS_SCHEMA``), with
the validators made once: what Rasa accepted is accepted, what it rejected
is rejected with the same error (jsonschema's best match, Rasa's message).
The events are checked by their name first (``_EventsCheck``): Rasa's
``EVENTS_SCHEMA`` says an event is one of some twenty kinds (``oneOf``, one
per event name), and jsonschema checks every event against all of them, to
make sure exactly one fits: 1 ms for an action's answer of four events,
6 % of a busy Rasa's samples (`make bench-profile`, 50 customers). Each
kind names its event (``"event": {"const": …}``), so exactly one fits when
the event fits the schema without the ``oneOf`` and the kind of its name:
that is checked first, and only what it does not accept goes through the
whole schema, for Rasa's answer and error.

bot/installs.py installs it, so every Rasa server with our credentials or
endpoints has it; nothing is patched on import. A Rasa without these
functions is left alone.
"""

from __future__ import annotations

import json
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import rasa.server
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

__all__ = ["install", "response_validator", "events_validator"]

_MARK = "_triage_cached_validator"


def _compiled(schema: dict[str, Any]) -> Any:
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate() does on every call
    return cls(schema)


@lru_cache(maxsize=1)
def response_validator() -> Any:
    return _compiled(RemoteAction.action_response_format_spec())


@lru_cache(maxsize=1)
def events_validator() -> Any:
    return _compiled(EVENTS_SCHEMA)


class _EventsCheck:
    """Whether a list of events fits ``EVENTS_SCHEMA``, one kind per event
    (the module's docstring says why that is the same answer). ``fits``
    answers True only when the whole schema would; a schema whose kinds are
    not one per event name (another Rasa) gets no shortcut."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.by_name: dict[str, Any] | None = None
        items = schema.get("items")
        kinds = items.get("oneOf") if isinstance(items, dict) else None
        if schema.get("type") != "array" or not isinstance(kinds, list) or "$ref" in json.dumps(schema):
            return
        names = [kind.get("properties", {}).get("event", {}).get("const") for kind in kinds]
        if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
            return
        assert isinstance(items, dict)
        cls = validator_for(schema)
        self.common = cls({key: value for key, value in items.items() if key != "oneOf"})
        self.by_name = {name: cls(kind) for name, kind in zip(names, kinds, strict=True)}

    def fits(self, events: Any) -> bool:
        if self.by_name is None or not isinstance(events, list):
            return False
        for event in events:
            if not self.common.is_valid(event):  # an object with an "event" string, among others
                return False
            kind = self.by_name.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


@lru_cache(maxsize=1)
def events_check() -> _EventsCheck:
    return _EventsCheck(EVENTS_SCHEMA)


@lru_cache(maxsize=1)
def _result_without_events() -> Any:
    """The action response schema, its events only required to be a list."""
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)({**schema, "properties": {**schema["properties"], "events": {"type": "array"}}})


def _result_fits(result: Any) -> bool:
    """True only when the action response schema accepts ``result``."""
    if not isinstance(result, dict) or not _result_without_events().is_valid(result):
        return False
    return "events" not in result or events_check().fits(result["events"])


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _result_fits(result):
        return True
    # what jsonschema.validate() does after checking the schema
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _validate_events_in_request_body(request: Any) -> None:
    events = request.json if isinstance(request.json, list) else [request.json]
    if events_check().fits(events):
        return
    error = best_match(events_validator().iter_errors(events))
    if error is None:
        return
    raise rasa.server.ErrorResponse(
        HTTPStatus.BAD_REQUEST,
        "BadRequest",
        f"Failed to validate the events format. For more information about the format visit the docs. Error: {error}",
        help_url=rasa.server._docs("/pages/http-api"),
    ) from error


def install() -> None:
    if not getattr(RemoteAction, _MARK, False) and hasattr(RemoteAction, "_validate_action_result"):
        RemoteAction._validate_action_result = _validate_action_result
        setattr(RemoteAction, _MARK, True)
    # the route handlers look the function up in rasa.server's globals on each call
    if not getattr(rasa.server, _MARK, False) and hasattr(rasa.server, "validate_events_in_request_body"):
        rasa.server.validate_events_in_request_body = _validate_events_in_request_body
        setattr(rasa.server, _MARK, True)
