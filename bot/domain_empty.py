"""Whether the model's domain is empty, answered once per domain.

Rasa 3.6 asks it for every customer message
(``MessageProcessor._check_for_unseen_features``), and ``Domain.is_empty``
answers by serialising the whole domain and a new empty one and comparing
the two: 2 % of a busy Rasa's samples (`make bench-profile`, 50
customers), for an answer that cannot change, since Rasa never changes a
domain after building it (a new model brings a new domain object).

``is_empty`` keeps each domain's first answer on the domain itself
(bot/installs.py puts it in place of ``Domain.is_empty``).
"""

from __future__ import annotations

from rasa.shared.core.domain import Domain

__all__ = ["is_empty"]

_KEPT = "_triage_is_empty"
RASAS_IS_EMPTY = Domain.is_empty  # Rasa's own, for the tests that compare


def is_empty(self: Domain) -> bool:
    kept = self.__dict__.get(_KEPT)
    if kept is None:
        kept = self.__dict__[_KEPT] = RASAS_IS_EMPTY(self)
    return bool(kept)
