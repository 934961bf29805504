"""What a Rasa server of ours changes in Rasa, installed in one place.

Each piece is in its own module, which says why: the JSON-schema checks
(bot/schema_checks.py), the kept action-server connections
(bot/kept_sessions.py), the event classes by name (bot/event_types.py),
the model's graph run in order (bot/graph_runner.py), the domain's
emptiness kept (bot/domain_empty.py) and a tracker's past states kept
(bot/past_states.py). ``install()`` is called by what only a Rasa server
with our credentials or endpoints builds: a channel of bot/channels/ before
it serves, and the tracker store of bot/tracker_store.py. Nothing is
patched on import; installing twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot import domain_empty, event_types, graph_runner, kept_sessions, past_states, schema_checks

__all__ = ["install"]


def _replace(owner: type, name: str, function: Any) -> None:
    if getattr(owner, name) is not function:
        setattr(owner, name, function)


def install() -> None:
    schema_checks.install()
    kept_sessions.install()
    event_types.install()
    _replace(DaskGraphRunner, "run", graph_runner.run)
    _replace(Domain, "is_empty", domain_empty.is_empty)
    _replace(DialogueStateTracker, "past_states", past_states.past_states)
