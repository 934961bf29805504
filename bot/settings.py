"""Settings of the bot's own code on the Rasa side (the customer channels of
the Rasa server, the terminal chat of bot/shell.py), read once from the
environment.

The action server and the outbox worker read theirs in
actions/core/settings.py. Every default runs on one machine with nothing
installed.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from support_rules.limits import MAX_MESSAGE_CHARS
from support_rules.retention import PURGE_AFTER_DAYS, PURGE_AFTER_DAYS_VARIABLE

__all__ = ["Settings", "get_settings", "ROOT", "DEFAULT_MAX_METADATA_BYTES"]

ROOT = Path(__file__).resolve().parents[1]
# the customer metadata a channel keeps (language, message id, resend, the
# signed customer token) is far below this; more is not kept
DEFAULT_MAX_METADATA_BYTES = 2048


def _positive_int(raw: str | None, default: int) -> int:
    try:
        return max(1, int(raw)) if raw is not None else default
    except ValueError:
        return default


def _days(raw: str | None, default: int) -> int:
    try:
        return max(0, int(raw)) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    # customer text longer than this is cut before NLU sees it (the web chat
    # page enforces the same limit)
    max_message_chars: int
    # set when several Rasa replicas run: a Redis client manager lets a push
    # handled by one replica reach a socket held by another
    socketio_redis_url: str | None
    socketio_redis_channel: str | None
    # comma-separated origins allowed to open a socket; empty: any
    webchat_origins: str | None
    # what a channel tells a customer (data/channel_notices.yml)
    channel_notices_path: Path
    # the Rasa server bot/shell.py talks to
    rasa_url: str
    # the endpoints file Rasa runs with (its tracker store and event broker,
    # purged by bot/retention.py), relative to the working directory
    endpoints_path: Path = Path("endpoints.yml")
    # Rasa's stores forget a conversation this long after its last event
    purge_after_days: int = PURGE_AFTER_DAYS
    # signs conversation ids into the secret only the customer's browser
    # holds (support_rules.conversations); the same on every Rasa replica.
    # Unset: a random key per process (conversations do not survive a
    # restart; the channel says so in its log)
    conversation_secret_key: str = dataclasses.field(default="", repr=False)
    conversation_secret_key_generated: bool = False
    # customer metadata larger than this (as JSON, UTF-8 bytes) is not kept:
    # the message is handled without it and the customer told so
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        key = env.get("CONVERSATION_SECRET_KEY") or ""
        return cls(
            max_message_chars=_positive_int(env.get("CHANNEL_MAX_MESSAGE_CHARS"), MAX_MESSAGE_CHARS),
            socketio_redis_url=env.get("SOCKETIO_REDIS_URL") or None,
            socketio_redis_channel=env.get("SOCKETIO_REDIS_CHANNEL") or None,
            webchat_origins=env.get("WEBCHAT_ORIGINS") or None,
            channel_notices_path=Path(env.get("CHANNEL_NOTICES") or ROOT / "data" / "channel_notices.yml"),
            rasa_url=(env.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
            endpoints_path=Path(env.get("RASA_ENDPOINTS") or "endpoints.yml"),
            purge_after_days=_days(env.get(PURGE_AFTER_DAYS_VARIABLE), PURGE_AFTER_DAYS),
            conversation_secret_key=key or secrets.token_urlsafe(32),
            conversation_secret_key_generated=not key,
            max_metadata_bytes=_positive_int(env.get("CHANNEL_MAX_METADATA_BYTES"), DEFAULT_MAX_METADATA_BYTES),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
