"""handoff/settings.py: the event source settings, read once from the environment."""

from __future__ import annotations

import pytest

from handoff.settings import SettingsError, load_settings


def test_settings_read_once_from_the_environment() -> None:
    defaults = load_settings({}, require_secrets=False)
    assert (defaults.events_source, defaults.rasa_events_url, defaults.rabbitmq_url, defaults.rabbitmq_queue) == (
        "sql",
        "sqlite+aiosqlite:///events.db",
        "amqp://guest:guest@127.0.0.1:5672/",
        "rasa_core_events",
    )
    custom = load_settings(
        {"HANDOFF_EVENTS_SOURCE": "RabbitMQ", "RABBITMQ_URL": "amqp://u:secret@mq:5672/", "RABBITMQ_QUEUE": "q"},
        require_secrets=False,
    )
    assert (custom.events_source, custom.rabbitmq_queue) == ("rabbitmq", "q") and "secret" not in repr(custom)
    with pytest.raises(SettingsError):
        load_settings({"HANDOFF_EVENTS_SOURCE": "kafka"}, require_secrets=False)
