"""bot/schema_checks.py: Rasa's JSON-schema checks of action server
responses and of events posted to the HTTP API, with validators built once,
accept and reject exactly what Rasa's own checks do."""

from __future__ import annotations

from types import SimpleNamespace

import jsonschema
import pytest
import rasa.server
from rasa.core.actions.action import RemoteAction
from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

from bot import schema_checks
from bot.channels.rest_input import TriageRestInput
from bot.settings import ROOT, Settings

VALID_RESULTS = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "topic", "value": "withdrawal"}, {"event": "pause"}],
        "responses": [{"response": "utter_handoff_created", "ticket_number": "T-000001"}],
    },
    {"events": [{"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]},
    {},
]
INVALID_RESULTS = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"responses": ["text instead of an object"]},
    [],
]
VALID_EVENTS = [
    {
        "event": "bot",
        "text": "Merhaba, hemen bakıyorum.",
        "metadata": {"sender": "agent", "agent_name": "Agent Finance"},
    },
    [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
    [],
]
INVALID_EVENTS = [
    {"event": "no_such_event"},
    [{"event": "bot", "text": "fine"}, 5],
    {"text": "no event name"},
    "just text",
]


def _rasa_result_check(result) -> bool:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    return True


def _rasa_events_check(body) -> None:
    jsonschema.validate(body if isinstance(body, list) else [body], EVENTS_SCHEMA)


@pytest.fixture(autouse=True, scope="module")
def installed() -> None:
    schema_checks.install()  # as building a channel does in the Rasa server


def test_building_a_channel_installs_the_checks_importing_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    check = (
        "import rasa.server; from rasa.core.actions.action import RemoteAction; "
        "import bot.channels.rest_input, bot.channels.socketio_input, bot.tracker_store; "
        "print(RemoteAction._validate_action_result.__module__, rasa.server.validate_events_in_request_body.__module__)"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1].split() == ["rasa.core.actions.action", "rasa.server"]

    # as Rasa had them before: building a channel's blueprint installs ours
    for owner in (RemoteAction, rasa.server):
        monkeypatch.delattr(owner, schema_checks._MARK, raising=False)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", None)
    monkeypatch.setattr(rasa.server, "validate_events_in_request_body", None)

    async def on_new_message(_: object) -> None:
        return None

    TriageRestInput(Settings.from_env({})).blueprint(on_new_message)
    assert RemoteAction._validate_action_result is schema_checks._validate_action_result
    assert rasa.server.validate_events_in_request_body is schema_checks._validate_events_in_request_body
    schema_checks.install()  # twice is harmless
    assert RemoteAction._validate_action_result is schema_checks._validate_action_result
    assert rasa.server.validate_events_in_request_body is schema_checks._validate_events_in_request_body


@pytest.mark.parametrize("result", VALID_RESULTS)
def test_accepts_the_action_results_rasa_accepts(result) -> None:
    assert _rasa_result_check(result)
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID_RESULTS)
def test_rejects_the_action_results_rasa_rejects_with_the_same_error(result) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        _rasa_result_check(result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(result)
    assert ours.value.message.startswith(rasa_error.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(rasa_error.value.path)


@pytest.mark.parametrize("body", VALID_EVENTS)
def test_accepts_the_posted_events_rasa_accepts(body) -> None:
    _rasa_events_check(body)
    assert rasa.server.validate_events_in_request_body(SimpleNamespace(json=body)) is None


@pytest.mark.parametrize("body", INVALID_EVENTS)
def test_rejects_the_posted_events_rasa_rejects_with_a_bad_request(body) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        _rasa_events_check(body)
    with pytest.raises(rasa.server.ErrorResponse) as ours:
        rasa.server.validate_events_in_request_body(SimpleNamespace(json=body))
    assert ours.value.status == 400
    assert str(rasa_error.value) in ours.value.error_info["message"]


def _every_kind_of_event() -> list[dict]:
    """One event of each kind Rasa serialises, as the action server and the
    handoff service send them."""
    from rasa.shared.core import events as e

    made = [
        e.UserUttered("merhaba", {"name": "greet", "confidence": 0.9}, [], message_id="m1", input_channel="rest"),
        e.BotUttered("Hello", {"elements": None}, {"sender": "agent"}),
        e.SlotSet("topic", "withdrawal"),
        e.SlotSet("requested_slot", None),
        e.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0),
        e.ActiveLoop("triage_form"),
        e.ActiveLoop(None),
        e.SessionStarted(),
        e.FollowupAction("action_handoff"),
        e.ConversationPaused(),
        e.ConversationResumed(),
        e.Restarted(),
        e.AllSlotsReset(),
        e.UserUtteranceReverted(),
        e.ActionReverted(),
        e.StoryExported(),
        e.AgentUttered("text"),
        e.LoopInterrupted(True),
        e.ActionExecutionRejected("triage_form"),
        e.ReminderScheduled("EXTERNAL_reminder", __import__("datetime").datetime(2026, 12, 8, 10, 0)),
        e.ReminderCancelled(name="r1"),
        e.EntitiesAdded([{"entity": "username", "value": "ayse_k", "start": 0, "end": 6}]),
        e.DefinePrevUserUtteredFeaturization(False),
    ]
    return [event.as_dict() for event in made]


def _broken(event: dict) -> list[dict]:
    """The event with each of its fields given a value of another type."""
    return [{**event, key: 5 if not isinstance(value, int) else "five"} for key, value in event.items()]


def test_events_are_checked_by_their_name_with_rasas_answer() -> None:
    check = schema_checks.events_check()
    assert check.by_name is not None  # Rasa's schema has one kind per event name: the shortcut is on
    full = schema_checks.events_validator()
    good = _every_kind_of_event()
    assert {event["event"] for event in good} <= set(check.by_name)
    for event in good:
        assert full.is_valid([event]), event
        assert check.fits([event]), event
    assert check.fits(good) and check.fits([])
    variants = [broken for event in good for broken in _broken(event)] + [{"event": "no_such_event"}, {"text": "x"}, 5]
    for variant in variants:
        # never accepted when Rasa's schema would not; the rest go through the whole schema
        assert not check.fits([variant]) or full.is_valid([variant]), variant
        assert not check.fits([*good, variant]) or full.is_valid([*good, variant]), variant
    assert any(not full.is_valid([variant]) for variant in variants)
    assert not check.fits("not a list")


def test_a_result_with_every_kind_of_event_is_accepted_without_the_whole_schema(monkeypatch) -> None:
    result = {"events": _every_kind_of_event(), "responses": [{"text": "hi"}]}
    assert _rasa_result_check(result)
    monkeypatch.setattr(schema_checks, "response_validator", lambda: pytest.fail("the whole schema was used"))
    assert RemoteAction("action_x", None)._validate_action_result(result) is True
    monkeypatch.setattr(schema_checks, "events_validator", lambda: pytest.fail("the whole schema was used"))
    assert rasa.server.validate_events_in_request_body(SimpleNamespace(json=result["events"])) is None
