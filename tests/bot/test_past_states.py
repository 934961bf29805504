"""bot/past_states.py: a tracker's past states kept while its events stay
the same, the same states as Rasa's, and predictions unchanged on the
trained model (models/triage.tar.gz)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import past_states
from bot.settings import ROOT

MODEL = ROOT / "models" / "triage.tar.gz"
ASKS: list[dict[str, Any]] = [
    {},
    {"ignore_rule_only_turns": True, "rule_only_data": {"slots": ["route"], "active_loops": []}},
    {"omit_unset_slots": True},
]


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(str(MODEL))


def _tracker(agent: Agent) -> DialogueStateTracker:
    parse = {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": "merhaba"}
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    events += [UserUttered("merhaba", parse["intent"], [], parse), ActionExecuted("age_form"), ActiveLoop("age_form")]
    events += [SlotSet("requested_slot", "birth_date"), ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("past-states", events, slots=agent.domain.slots)


def test_the_same_states_as_rasas_as_the_events_grow(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DialogueStateTracker, "past_states", past_states.past_states)
    tracker = _tracker(agent)
    for step in range(3):
        for ask in ASKS:
            expected = past_states.RASAS_PAST_STATES(tracker, agent.domain, **ask)
            first = tracker.past_states(agent.domain, **ask)
            assert first == expected
            first[-1].clear()  # the featurisers change what they get in place
            first[0]["prev_action"] = {"action_name": "changed"}
            assert tracker.past_states(agent.domain, **ask) == expected  # kept, and not the changed copy
        # appended events: worked out anew
        tracker.update(UserUttered(f"message {step}", {"name": "deny", "confidence": 0.8}))
        tracker.update(ActionExecuted("triage_form"))
    assert len(tracker.past_states(agent.domain)) == len(past_states.RASAS_PAST_STATES(tracker, agent.domain))


def test_predictions_are_unchanged(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    processor = agent.processor
    assert processor is not None

    async def predictions() -> list[tuple[str, list[float]]]:
        made = []
        for text in ("merhaba", "I forgot my password", "para çekme sorunu", "17.08.1985", "asdf qwer"):
            parse = await agent.parse_message(text)
            tracker = _tracker(agent)
            tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
            for _ in range(3):
                prediction = processor._predict_next_with_tracker(tracker)
                action = agent.domain.action_names_or_texts[prediction.max_confidence_index]
                made.append((action, list(prediction.probabilities)))
                tracker.update(ActionExecuted(action))
        return made

    monkeypatch.setattr(DialogueStateTracker, "past_states", past_states.RASAS_PAST_STATES)
    rasas = asyncio.run(predictions())
    monkeypatch.setattr(DialogueStateTracker, "past_states", past_states.past_states)
    assert asyncio.run(predictions()) == rasas
    assert len({action for action, _ in rasas}) > 1


def test_a_full_event_history_is_worked_out_anew(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``max_event_history`` the deque drops its first event as it
    takes a new one: the number of events stays, the last one changes."""
    monkeypatch.setattr(DialogueStateTracker, "past_states", past_states.past_states)
    tracker = DialogueStateTracker.from_events(
        "past-states-full", list(_tracker(agent).events), slots=agent.domain.slots, max_event_history=6
    )
    before = tracker.past_states(agent.domain)
    count = len(tracker.events)
    tracker.update(UserUttered("again", {"name": "deny", "confidence": 0.8}))
    assert len(tracker.events) == count  # full: the first event went
    assert tracker.past_states(agent.domain) == past_states.RASAS_PAST_STATES(tracker, agent.domain) != before
