"""Rasa's event classes looked up by type name once, not at every event.

Rasa 3.6 turns every stored or posted event back into an object through
``Event.resolve_by_type`` (``rasa/shared/core/events.py``), which walks
every subclass of ``Event`` (``all_subclasses``, with ``inspect.isabstract``
on each) until one has the event's ``type_name``: about 40 µs here for a
``user`` or ``slot`` event. A tracker is rebuilt from its rows at every
read (``DialogueStateTracker.from_dict``), so a handed-off conversation of
a hundred events costs about 4 ms of the server's one event loop per
customer message and again per agent reply: in `make bench-handoff`'s
profile a tenth of the Rasa server's samples (docs/BENCHMARKS.md).

``install()`` puts a lookup in front of it that remembers the class Rasa's
own search found for each type name; a name it has not seen (or that Rasa
does not know) goes to Rasa's search as before, so the default, the
``topic`` case and the error are Rasa's. The classes are all defined when
Rasa is imported, so what the search finds for a name does not change while
the server runs. Installed by bot/installs.py; nothing is patched on
import.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import Event

__all__ = ["install", "resolve_by_type"]

_MARK = "_triage_resolve_cache"
_rasas = Event.resolve_by_type
_found: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type``, remembering what Rasa's search found."""
    known = _found.get(type_name)
    if known is not None:
        return known
    found = _rasas(type_name, default)
    if found is not None and getattr(found, "type_name", None) == type_name:
        _found[type_name] = found
    return found


def install() -> None:
    if not getattr(Event, _MARK, False):
        Event.resolve_by_type = staticmethod(resolve_by_type)
        setattr(Event, _MARK, True)
