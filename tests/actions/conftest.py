"""Fixtures of the action tests (helpers in action_services.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from action_services import HandoffServiceDouble, make_services

from actions.services import Services


@pytest.fixture
def handoff_service() -> Iterator[HandoffServiceDouble]:
    service = HandoffServiceDouble()
    service.start()
    yield service
    service.close()


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path)


@pytest.fixture
def rules(services: Services):
    return services.triage_rules()
