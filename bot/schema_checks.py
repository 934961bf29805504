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
Building a channel of bot/channels/ (its blueprint) or the tracker store of
bot/tracker_store.py calls it, so every Rasa server with our credentials or
endpoints has it; nothing is patched on import. A Rasa without these
functions is left alone.
"""

from __future__ import annotations

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


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
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
