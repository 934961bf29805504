"""One JSON-schema validator for action server responses, built once.

Rasa 3.6 checks every response of the action server against a JSON schema
(``RemoteAction._validate_action_result``) with ``jsonschema.validate()``,
which on every call first checks the schema itself against the draft
2020-12 meta-schema and then builds a new validator. Our turns run several
custom actions (forms, their validation, the routing and handoff actions),
and a py-spy profile of the Rasa server under load (docs/BENCHMARKS.md)
put about half of its CPU time in that repeated work.

``install()`` replaces the method with one that validates against the same
schema (``RemoteAction.action_response_format_spec()``) with a validator
made once: a response Rasa accepted is accepted, one it rejected is
rejected with the same ``ValidationError`` and message. bot/channels.py and
bot/tracker_store.py call it, so every Rasa server with our credentials or
endpoints has it; a Rasa whose method is gone is left alone.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

__all__ = ["install", "response_validator"]

_MARK = "_triage_cached_validator"


@lru_cache(maxsize=1)
def response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate() does on every call
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
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


def install() -> None:
    if getattr(RemoteAction, _MARK, False) or not hasattr(RemoteAction, "_validate_action_result"):
        return
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    setattr(RemoteAction, _MARK, True)

