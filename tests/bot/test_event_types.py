"""bot/event_types.py: Rasa's event classes by type name, looked up once,
are the classes Rasa's own search finds, with its default and its error
for names it does not know."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot import event_types
from bot.tracker_store import RedactingSQLTrackerStore

NAMES = sorted({cls.type_name for cls in all_subclasses(Event)})


@pytest.mark.parametrize("name", NAMES)
def test_every_type_name_resolves_to_rasas_class(name: str) -> None:
    expected = event_types._rasas(name)
    assert event_types.resolve_by_type(name) is expected
    assert event_types.resolve_by_type(name) is expected  # remembered
    assert event_types._found[name] is expected


def test_unknown_names_get_rasas_default_and_error_and_are_not_remembered() -> None:
    assert event_types.resolve_by_type("topic") is None  # Rasa's old TopicSet events
    assert event_types.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        event_types.resolve_by_type("no_such_event")
    assert "no_such_event" not in event_types._found and "topic" not in event_types._found


def test_installed_by_the_tracker_store_events_read_back_as_before(tmp_path) -> None:
    RedactingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "t.db"))
    assert Event.resolve_by_type is event_types.resolve_by_type
    events = [
        UserUttered("merhaba", {"name": "greet", "confidence": 0.9}),
        ActionExecuted("utter_greet"),
        SlotSet("language", "tr"),
    ]
    again = [Event.from_parameters(e.as_dict()) for e in events]
    assert again == events and [type(e) for e in again] == [UserUttered, ActionExecuted, SlotSet]
