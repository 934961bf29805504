"""A tracker's past states worked out once per prediction.

Every policy of Rasa 3.6 featurises the conversation before it predicts
the next action: ``DialogueStateTracker.past_states`` replays every event
of the tracker into a fresh tracker and takes a state at each action
(``Domain.states_for_tracker_history``). For one prediction our two
policies ask three times, twice with the same arguments (the memoization
policy and the rule policy's first look), and a turn makes three or four
predictions: half of a prediction's time (0.23 of 1.36 ms for each ask
in a conversation of 28 events, measured on the trained model).

``past_states`` keeps, on the tracker itself, the states of each set of
arguments for as long as the tracker has the same events (same number, same
last event object: Rasa only ever appends to a tracker's events, and a
full deque that drops its first event has a new last one), and the same
domain; each caller gets its own copy of the states, which the
featurisers change in place. bot/installs.py puts it in place of
``DialogueStateTracker.past_states``.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

__all__ = ["past_states"]

_KEPT = "_triage_past_states"
RASAS_PAST_STATES = DialogueStateTracker.past_states  # Rasa's own, for the tests that compare


def _copy(states: list[State]) -> list[State]:
    # a state's sub-states are dicts of strings and tuples
    return [{key: dict(sub_state) for key, sub_state in state.items()} for state in states]


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    events = self.events
    last = events[-1] if events else None
    kept = self.__dict__.get(_KEPT)
    if kept is None or kept[0] is not domain or kept[1] != len(events) or kept[2] is not last:
        kept = self.__dict__[_KEPT] = (domain, len(events), last, {})
    asked = (omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    states = kept[3].get(asked)
    if states is None:
        states = kept[3][asked] = RASAS_PAST_STATES(
            self,
            domain,
            omit_unset_slots=omit_unset_slots,
            ignore_rule_only_turns=ignore_rule_only_turns,
            rule_only_data=rule_only_data,
        )
    return _copy(states)
