"""Fixtures of the bot's own code (bot/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from channel_server import ChannelServer


@pytest.fixture(scope="session")
def channel_server() -> Iterator[ChannelServer]:
    """The channels served once per session (see tests/bot/channel_server.py)."""
    from channel_server import ChannelServer  # Rasa and Sanic only for the tests that use it

    running = ChannelServer()
    yield running
    running.close()


@pytest.fixture
def served(channel_server: ChannelServer) -> ChannelServer:
    channel_server.received.clear()
    return channel_server
