"""bot/action_results.py: Rasa's check of action server responses, with a
validator built once, accepts and rejects exactly what Rasa's own does."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import bot.channels  # noqa: F401  (installs the cached validator, as the Rasa server does)
from bot import action_results

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "withdrawal"}, {"event": "pause"}],
     "responses": [{"response": "utter_handoff_created", "ticket_number": "T-000001"}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["text instead of an object"]},
    [],
]


def _rasa_own(result) -> bool:  # type: ignore[no-untyped-def]
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    return True


def test_installed_by_the_channels_module() -> None:
    assert RemoteAction._validate_action_result is action_results._validate_action_result
    action_results.install()  # twice is harmless
    assert RemoteAction._validate_action_result is action_results._validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_accepts_what_rasa_accepts(result) -> None:  # type: ignore[no-untyped-def]
    assert _rasa_own(result)
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_rejects_what_rasa_rejects_with_the_same_error(result) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        _rasa_own(result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(result)
    assert ours.value.message.startswith(rasa_error.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(rasa_error.value.path)

