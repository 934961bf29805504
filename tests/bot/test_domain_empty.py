"""bot/domain_empty.py: Rasa's answer to "is the domain empty?", computed
once per domain."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from bot import domain_empty, installs
from bot.settings import ROOT


def test_the_answer_is_rasas_and_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    installs.install()
    ours = Domain.load(str(ROOT / "domain"))
    empty = Domain.empty()
    assert (
        (ours.is_empty(), empty.is_empty())
        == (
            domain_empty.RASAS_IS_EMPTY(ours),
            domain_empty.RASAS_IS_EMPTY(empty),
        )
        == (False, True)
    )
    calls = []
    monkeypatch.setattr(Domain, "as_dict", lambda self: calls.append(self) or {})
    assert ours.is_empty() is False and empty.is_empty() is True
    assert calls == []  # kept on each domain: no serialising again
    fresh = Domain.from_dict({"intents": ["greet"]})
    assert fresh.is_empty() is True  # a new domain is asked anew (here with as_dict patched to {})
    assert calls
