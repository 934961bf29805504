"""Settings for the handoff service, read once from the environment.

Defaults run on one machine with nothing installed (a SQLite file next to
the working directory). Secrets have no default: the service refuses to
start without them unless ``HANDOFF_DEV_INSECURE=1`` is set, which then
uses fixed, clearly insecure development values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError", "load_settings", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parent.parent

_DEV_SECRET = "insecure-development-secret"
# the socket.io client installed by `make webchat-setup` (mk/webchat.mk)
_WEBCHAT_VENDOR = Path("build", "webchat", "node_modules", "socket.io-client", "dist", "socket.io.min.js")


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///handoff.db"
    host: str = "127.0.0.1"
    port: int = 8080
    service_token: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    demo_agent_password: str = field(default="", repr=False)
    repo_root: Path = REPO_ROOT
    catalogue_path: Path = REPO_ROOT / "data" / "catalogue.yml"
    summary_schema_path: Path = REPO_ROOT / "schemas" / "handoff_summary.schema.json"
    session_max_age_seconds: int = 12 * 3600
    login_max_failures: int = 5
    login_window_seconds: int = 300
    rate_window_seconds: int = 3600
    default_handle_seconds: int = 300
    archive_after_days: int = 30
    purge_after_days: int = 365
    max_body_bytes: int = 64 * 1024
    max_message_bytes: int = 4 * 1024
    # Rasa's event broker, followed for transcripts and live customer
    # messages (handoff.broker): sql | rabbitmq | off
    events_source: str = "sql"
    rasa_events_url: str = field(default="sqlite+aiosqlite:///events.db", repr=False)
    rabbitmq_url: str = field(default="amqp://guest:guest@127.0.0.1:5672/", repr=False)
    rabbitmq_queue: str = "rasa_core_events"
    rabbitmq_exchange: str = "rasa-exchange"
    cookie_secure: bool = False
    dev_insecure: bool = False
    # Rasa's HTTP API, through which agent replies, notices and hand-backs
    # reach the customer; empty: replies are only recorded (tests, demos).
    rasa_url: str = ""
    rasa_auth_token: str = field(default="", repr=False)
    rasa_timeout_seconds: float = 10.0
    notices_path: Path = REPO_ROOT / "data" / "notices.yml"
    queue_notice_interval_seconds: int = 60
    queue_notice_poll_seconds: float = 3.0
    # customer web chat (/chat/): where the browser reaches Rasa's socket.io channel
    rasa_public_url: str = "http://127.0.0.1:5005"
    webchat_vendor_path: Path = REPO_ROOT / _WEBCHAT_VENDOR
    webchat_default_language: str = "tr"
    # live updates to consoles: auto (PostgreSQL LISTEN/NOTIFY on a
    # PostgreSQL database, in-process on SQLite), postgres or memory
    live_bus: str = "auto"
    live_channel: str = "handoff_live"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _choice(env: Mapping[str, str], name: str, default: str, allowed: set[str]) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(sorted(allowed))}, got {raw!r}")
    return raw


def _identifier(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or default).strip()
    if not raw.replace("_", "").isalnum() or not raw.isascii() or len(raw) > 63:
        raise SettingsError(f"{name} must be letters, digits and underscores (at most 63), got {raw!r}")
    return raw


def _public_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) origin plus optional path; it ends up in a CSP header, so nothing else."""
    raw = (env.get(name) or default).strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(c in raw for c in " ;,'\""):
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw


def load_settings(env: Mapping[str, str] | None = None, *, require_secrets: bool = True) -> Settings:
    """Build settings from ``env`` (default ``os.environ``).

    ``require_secrets`` is false for commands that never serve requests
    (migrations, retention).
    """
    env = os.environ if env is None else env
    dev = _bool(env, "HANDOFF_DEV_INSECURE")
    token = env.get("HANDOFF_SERVICE_TOKEN", "")
    secret = env.get("HANDOFF_SECRET_KEY", "")
    if require_secrets and not (token and secret):
        if not dev:
            raise SettingsError(
                "HANDOFF_SERVICE_TOKEN and HANDOFF_SECRET_KEY must be set "
                "(or HANDOFF_DEV_INSECURE=1 for a throwaway development run)"
            )
    token = token or (_DEV_SECRET if dev else "")
    secret = secret or (_DEV_SECRET if dev else "")
    root = Path(env.get("HANDOFF_REPO_ROOT", str(REPO_ROOT)))
    return Settings(
        database_url=env.get("DATABASE_URL") or "sqlite+aiosqlite:///handoff.db",
        host=env.get("HANDOFF_HOST", "127.0.0.1"),
        port=_int(env, "HANDOFF_PORT", 8080),
        service_token=token,
        secret_key=secret,
        demo_agent_password=env.get("DEMO_AGENT_PASSWORD", ""),
        repo_root=root,
        catalogue_path=Path(env.get("HANDOFF_CATALOGUE", str(root / "data" / "catalogue.yml"))),
        summary_schema_path=Path(
            env.get("HANDOFF_SUMMARY_SCHEMA", str(root / "schemas" / "handoff_summary.schema.json"))
        ),
        session_max_age_seconds=_int(env, "HANDOFF_SESSION_MAX_AGE", 12 * 3600),
        login_max_failures=_int(env, "HANDOFF_LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_int(env, "HANDOFF_LOGIN_WINDOW", 300),
        rate_window_seconds=_int(env, "HANDOFF_RATE_WINDOW", 3600),
        default_handle_seconds=_int(env, "HANDOFF_DEFAULT_HANDLE_SECONDS", 300),
        archive_after_days=_int(env, "HANDOFF_ARCHIVE_AFTER_DAYS", 30),
        purge_after_days=_int(env, "HANDOFF_PURGE_AFTER_DAYS", 365),
        events_source=_choice(env, "HANDOFF_EVENTS_SOURCE", "sql", {"sql", "rabbitmq", "off"}),
        rasa_events_url=env.get("RASA_EVENTS_URL") or "sqlite+aiosqlite:///events.db",
        rabbitmq_url=env.get("RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672/",
        rabbitmq_queue=env.get("RABBITMQ_QUEUE") or "rasa_core_events",
        rabbitmq_exchange=env.get("RABBITMQ_EXCHANGE") or "rasa-exchange",
        cookie_secure=_bool(env, "HANDOFF_COOKIE_SECURE"),
        dev_insecure=dev,
        rasa_url=(env.get("RASA_URL") or "").rstrip("/"),
        rasa_auth_token=env.get("RASA_AUTH_TOKEN", ""),
        rasa_timeout_seconds=float(_int(env, "HANDOFF_RASA_TIMEOUT", 10)),
        notices_path=Path(env.get("HANDOFF_NOTICES", str(root / "data" / "notices.yml"))),
        queue_notice_interval_seconds=_int(env, "HANDOFF_QUEUE_NOTICE_INTERVAL", 60),
        queue_notice_poll_seconds=float(_int(env, "HANDOFF_QUEUE_NOTICE_POLL", 3)),
        rasa_public_url=_public_url(env, "RASA_PUBLIC_URL", "http://127.0.0.1:5005"),
        webchat_vendor_path=Path(env.get("HANDOFF_WEBCHAT_VENDOR") or str(root / _WEBCHAT_VENDOR)),
        webchat_default_language=_choice(env, "HANDOFF_WEBCHAT_LANGUAGE", "tr", {"tr", "en"}),
        live_bus=_choice(env, "HANDOFF_LIVE_BUS", "auto", {"auto", "postgres", "memory"}),
        live_channel=_identifier(env, "HANDOFF_LIVE_CHANNEL", "handoff_live"),
    )
