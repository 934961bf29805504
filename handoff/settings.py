"""Settings for the handoff service, read once from the environment.

Each setting is defined once, as a field of ``Settings``: its environment
variable, its default, how the text is read and what it means
(``setting(...)``). ``load_settings`` reads every field from the
environment in one loop; nothing else in ``handoff/`` reads the
environment. ``docs/HANDOFF.md`` lists the variables.

Defaults run on one machine with nothing installed (a SQLite file next to
the working directory). Secrets have no default: the service refuses to
start without them unless ``HANDOFF_DEV_INSECURE=1`` is set, which then
generates random ones for this start only (``dev_secrets_warning`` says so).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from support_rules.language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from support_rules.limits import MAX_MESSAGE_CHARS
from support_rules.retention import PURGE_AFTER_DAYS, PURGE_AFTER_DAYS_VARIABLE
from support_rules.triage import SUPPORT_TIMEZONE, TRANSACTION_MAX_AGE_DAYS, USERNAME_PATTERN

__all__ = [
    "Settings",
    "SettingsError",
    "load_settings",
    "setting_fields",
    "dev_secrets_warning",
    "child_environment",
    "REPO_ROOT",
]

REPO_ROOT = Path(__file__).resolve().parent.parent

# the socket.io client installed by `make webchat-setup` (mk/webchat.mk)
_WEBCHAT_VENDOR = "build/webchat/node_modules/socket.io-client/dist/socket.io.min.js"

T = TypeVar("T")
Parse = Callable[[str, str], Any]  # (variable name, raw text) -> value


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _positive(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value < 1:
        raise SettingsError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _seconds(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc


def _flag(name: str, raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _text(name: str, raw: str) -> str:
    return raw


def _url(name: str, raw: str) -> str:
    return raw.strip().rstrip("/")


def _path(name: str, raw: str) -> Path:
    return Path(raw)


def _choice(*allowed: str) -> Parse:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(sorted(allowed))}, got {raw!r}")
        return value

    return parse


def _identifier(name: str, raw: str) -> str:
    value = raw.strip()
    if not value.replace("_", "").isalnum() or not value.isascii() or len(value) > 63:
        raise SettingsError(f"{name} must be letters, digits and underscores (at most 63), got {raw!r}")
    return value


def _public_url(name: str, raw: str) -> str:
    """An http(s) origin plus optional path; it ends up in a CSP header, so nothing else."""
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(c in value for c in " ;,'\""):
        raise SettingsError(f"{name} must be an http(s) URL, got {raw!r}")
    return value


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (``10.0.0.0/8``, ``::1``)."""
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise SettingsError(f"{name} must be IP addresses or networks, got {part!r}") from exc
    return tuple(out)


def _origins(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated origins (``https://support.example.com``), no path."""
    out = []
    for part in (p.strip().rstrip("/") for p in raw.split(",")):
        if not part:
            continue
        parts = urlsplit(part)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or parts.query:
            raise SettingsError(f"{name} must be http(s) origins without a path, got {part!r}")
        out.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(out)


def _non_negative(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more, got {raw!r}")
    return value


_PARSERS: dict[type, Parse] = {int: _integer, float: _seconds, bool: _flag, str: _text, Path: _path}


def setting(
    env: str, default: T, doc: str, *, parse: Parse | None = None, secret: bool = False, under_root: str | None = None
) -> T:
    """One setting: the variable ``env`` read with ``parse`` (by default by
    the field's type), ``default`` when it is unset or empty. A path
    ``under_root`` defaults to that path under ``HANDOFF_REPO_ROOT``."""
    meta = {"env": env, "doc": doc, "parse": parse, "under_root": under_root}
    return dataclasses.field(default=default, repr=not secret, metadata=meta)


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "DATABASE_URL", "sqlite+aiosqlite:///handoff.db", "SQLite file by default; postgresql://... (asyncpg)"
    )
    host: str = setting("HANDOFF_HOST", "127.0.0.1", "where serve listens")
    port: int = setting("HANDOFF_PORT", 8080, "where serve listens")
    service_token: str = setting("HANDOFF_SERVICE_TOKEN", "", "bearer token the bot sends (required)", secret=True)
    secret_key: str = setting("HANDOFF_SECRET_KEY", "", "signs agent session tokens (required)", secret=True)
    dev_insecure: bool = setting(
        "HANDOFF_DEV_INSECURE",
        False,
        "start without the two secrets, with random ones generated for this start (development only)",
    )
    demo_agent_password: str = setting("DEMO_AGENT_PASSWORD", "", "password of the demo agents", secret=True)
    repo_root: Path = setting("HANDOFF_REPO_ROOT", REPO_ROOT, "where data/ and schemas/ are read from")
    catalogue_path: Path = setting(
        "HANDOFF_CATALOGUE", REPO_ROOT / "data" / "catalogue.yml", "the catalogue", under_root="data/catalogue.yml"
    )
    summary_schema_path: Path = setting(
        "HANDOFF_SUMMARY_SCHEMA",
        REPO_ROOT / "schemas" / "handoff_summary.schema.json",
        "the summary's JSON Schema",
        under_root="schemas/handoff_summary.schema.json",
    )
    session_max_age_seconds: int = setting("HANDOFF_SESSION_MAX_AGE", 12 * 3600, "agent session lifetime, seconds")
    login_max_failures: int = setting("HANDOFF_LOGIN_MAX_FAILURES", 5, "failed log-ins allowed within the window")
    login_window_seconds: int = setting("HANDOFF_LOGIN_WINDOW", 300, "window of the failed log-ins, seconds")
    rate_window_seconds: int = setting("HANDOFF_RATE_WINDOW", 3600, "window W of the handling rate, seconds")
    default_handle_seconds: int = setting(
        "HANDOFF_DEFAULT_HANDLE_SECONDS", 300, "assumed seconds per ticket when none was claimed in the window"
    )
    verification_handle_seconds: int = setting(
        "HANDOFF_VERIFICATION_HANDLE_SECONDS",
        900,
        "assumed seconds an agent spends on a verification request (documents to check), against"
        " HANDOFF_DEFAULT_HANDLE_SECONDS for a support request: the expected wait counts each kind",
        parse=_positive,
    )
    verification_path: Path = setting(
        "HANDOFF_VERIFICATION",
        REPO_ROOT / "data" / "verification.yml",
        "documents asked for and rejection reasons of identity verification",
        under_root="data/verification.yml",
    )
    username_pattern: str = setting(
        "USERNAME_PATTERN", USERNAME_PATTERN, "platform usernames (the bot's setting of the same name)"
    )
    transaction_max_age_days: int = setting(
        "TRANSACTION_MAX_AGE_DAYS", TRANSACTION_MAX_AGE_DAYS, "oldest transaction date a request may name, days"
    )
    support_timezone: str = setting("SUPPORT_TIMEZONE", SUPPORT_TIMEZONE, "the desk's time zone: what today is")
    archive_after_days: int = setting("HANDOFF_ARCHIVE_AFTER_DAYS", 30, "closed tickets are archived after")
    purge_after_days: int = setting(
        PURGE_AFTER_DAYS_VARIABLE,
        PURGE_AFTER_DAYS,
        "archived tickets, transcripts and audit details are purged after (the age of every store)",
    )
    abandon_after_seconds: int = setting(
        "HANDOFF_ABANDON_AFTER_SECONDS",
        86400,
        "a queued ticket whose customer wrote nothing for this long is closed as abandoned; 0: never",
        parse=_integer,
    )
    max_body_bytes: int = setting("HANDOFF_MAX_BODY_BYTES", 64 * 1024, "largest request body", parse=_positive)
    max_message_chars: int = setting(
        "HANDOFF_MAX_MESSAGE_CHARS", MAX_MESSAGE_CHARS, "longest message or reply, characters", parse=_positive
    )
    max_message_bytes: int = setting(
        # room for the longest message in any script (UTF-8 has up to 4 bytes a character)
        "HANDOFF_MAX_MESSAGE_BYTES",
        4 * MAX_MESSAGE_CHARS,
        "largest message or reply, UTF-8 bytes",
        parse=_positive,
    )
    # Rasa's event broker, followed for transcripts and live customer
    # messages (handoff.broker)
    events_source: str = setting(
        "HANDOFF_EVENTS_SOURCE", "sql", "Rasa's event broker to follow", parse=_choice("sql", "rabbitmq", "off")
    )
    rasa_events_url: str = setting(
        "RASA_EVENTS_URL", "sqlite+aiosqlite:///events.db", "the database of Rasa's SQL broker", secret=True
    )
    rabbitmq_url: str = setting("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ", secret=True)
    rabbitmq_queue: str = setting("RABBITMQ_QUEUE", "rasa_core_events", "the queue, as in Rasa's queues:")
    rabbitmq_exchange: str = setting("RABBITMQ_EXCHANGE", "rasa-exchange", "Rasa 3.6's fanout exchange")
    cookie_secure: bool = setting("HANDOFF_COOKIE_SECURE", False, "mark the session cookie Secure (behind HTTPS)")
    customer_token_secret: str = setting(
        "CUSTOMER_TOKEN_SECRET",
        "",
        "verifies the platform's signed customer token (the customer panel's sign-in); unset: nobody signs in",
        secret=True,
    )
    panel_session_max_age_seconds: int = setting(
        "HANDOFF_PANEL_SESSION_MAX_AGE",
        2 * 3600,
        "customer panel session lifetime, seconds (never beyond the token's own expiry)",
        parse=_positive,
    )
    # Rasa's HTTP API, through which agent replies, notices and hand-backs
    # reach the customer; empty: replies are only recorded (tests, demos).
    rasa_url: str = setting("RASA_URL", "", "Rasa's HTTP API", parse=_url)
    rasa_jwt_secret: str = setting(
        "RASA_JWT_SECRET", "", "Rasa's --jwt-secret (HS256): requests carry a JWT header, no token in URLs", secret=True
    )
    rasa_timeout_seconds: float = setting("HANDOFF_RASA_TIMEOUT", 10.0, "seconds per request to Rasa")
    # the editors' loop (handoff/editor/): where it writes training data, how
    # it trains and where it publishes; unset project or bot Python: the
    # inbox and figures work, writing or training answers that it is not set up
    editor_project: str = setting(
        "HANDOFF_EDITOR_PROJECT",
        "",
        "the project whose data/ the editors change and train from (make run: this checkout); empty: no writes",
    )
    editor_mode: str = setting(
        "HANDOFF_EDITOR_MODE",
        "files",
        "files: write data/ in place; branch: a git commit on editor/<name>; patch: a patch to download",
        parse=_choice("files", "branch", "patch"),
    )
    editor_bot_python: str = setting(
        "HANDOFF_EDITOR_BOT_PYTHON",
        "",
        "the bot environment's Python that trains and scores models; empty: no training",
    )
    editor_models_dir: str = setting(
        "HANDOFF_EDITOR_MODELS",
        "",
        "where trained models are kept (Rasa must read them); empty: <project>/models/editor",
    )
    editor_live_model: str = setting(
        "HANDOFF_EDITOR_LIVE_MODEL", "", "the model Rasa started with, scored as the first live one; empty: none"
    )
    rasa_model_urls: str = setting(
        "HANDOFF_RASA_MODEL_URLS", "", "comma-separated Rasa servers a publish updates in turn; empty: RASA_URL"
    )
    editor_margin: float = setting(
        "HANDOFF_EDITOR_MARGIN",
        0.02,
        "a model whose F1 on a held-out set is lower than the live one's by more is refused",
    )
    review_confidence: float = setting(
        "HANDOFF_REVIEW_CONFIDENCE", 0.6, "customer lines understood with less confidence go to the review inbox"
    )
    metrics_token: str = setting(
        "HANDOFF_METRICS_TOKEN", "", "bearer token Prometheus sends to /metrics; empty: /metrics is closed", secret=True
    )
    notices_path: Path = setting(
        "HANDOFF_NOTICES", REPO_ROOT / "data" / "notices.yml", "the customer notices", under_root="data/notices.yml"
    )
    queue_notice_interval_seconds: int = setting(
        "HANDOFF_QUEUE_NOTICE_INTERVAL", 60, "at most one queue notice per ticket per interval, seconds"
    )
    queue_notice_poll_seconds: float = setting("HANDOFF_QUEUE_NOTICE_POLL", 3.0, "how often the queue is checked")
    # customer web chat (/chat/): where the browser reaches Rasa's socket.io channel
    rasa_public_url: str = setting(
        "RASA_PUBLIC_URL", "http://127.0.0.1:5005", "Rasa's socket.io channel as browsers reach it", parse=_public_url
    )
    webchat_vendor_path: Path = setting(
        "HANDOFF_WEBCHAT_VENDOR", REPO_ROOT / _WEBCHAT_VENDOR, "the socket.io client", under_root=_WEBCHAT_VENDOR
    )
    webchat_default_language: str = setting(
        "HANDOFF_WEBCHAT_LANGUAGE", DEFAULT_LANGUAGE, "the web chat's language", parse=_choice(*SUPPORTED_LANGUAGES)
    )
    # e-mail (handoff.mail): the inbound SMTP server, the outbound relay and the texts
    mail_texts_path: Path = setting(
        "HANDOFF_MAIL_TEXTS", REPO_ROOT / "data" / "mail.yml", "the e-mails' texts", under_root="data/mail.yml"
    )
    mail_address: str = setting(
        "HANDOFF_MAIL_ADDRESS",
        "support@desk.localhost",
        "the desk's support address: From of its mail, Message-ID domain",
    )
    smtp_listen: str = setting(
        "HANDOFF_SMTP_LISTEN",
        "",
        "host:port of the inbound SMTP server serve starts; empty: none (make run: 127.0.0.1:2525)",
    )
    mail_relay: str = setting(
        "HANDOFF_MAIL_RELAY",
        "",
        "where outbound mail goes: smtp://host:port (smtps:// for TLS), or a directory of .eml files; empty: kept queued",
    )
    mail_relay_user: str = setting("HANDOFF_MAIL_RELAY_USER", "", "the relay's log-in user; empty: none")
    mail_relay_password: str = setting("HANDOFF_MAIL_RELAY_PASSWORD", "", "the relay's log-in password", secret=True)
    mail_relay_timeout_seconds: float = setting(
        "HANDOFF_MAIL_RELAY_TIMEOUT", 30.0, "seconds per mail handed to the relay"
    )
    mail_relay_poll_seconds: float = setting(
        "HANDOFF_MAIL_RELAY_POLL", 5.0, "how often the relay worker looks for mail due (a reply wakes it at once)"
    )
    mail_retry_seconds: float = setting(
        "HANDOFF_MAIL_RETRY", 30.0, "wait before retrying a mail the relay refused; doubled each time up to the cap"
    )
    mail_retry_max_seconds: float = setting("HANDOFF_MAIL_RETRY_MAX", 3600.0, "longest wait between two attempts")
    mail_max_bytes: int = setting(
        "HANDOFF_MAIL_MAX_BYTES", 25 * 1024 * 1024, "largest inbound mail accepted (SMTP SIZE), bytes", parse=_positive
    )
    mail_auto_replies_per_hour: int = setting(
        "HANDOFF_MAIL_AUTO_REPLIES_PER_HOUR", 3, "automatic mails to one address per hour, at most", parse=_positive
    )
    # the request form (handoff.api.form): postings per client address and per
    # e-mail address within a sliding window (handoff.services.rate_limits)
    form_max_per_address: int = setting(
        "HANDOFF_FORM_MAX_PER_ADDRESS",
        10,
        "request form postings per client address within the window",
        parse=_positive,
    )
    form_max_per_email: int = setting(
        "HANDOFF_FORM_MAX_PER_EMAIL", 5, "request form postings per e-mail address within the window", parse=_positive
    )
    form_window_seconds: int = setting(
        "HANDOFF_FORM_WINDOW", 3600, "the request form's rate-limit window, seconds", parse=_positive
    )
    form_max_files: int = setting(
        "HANDOFF_FORM_MAX_FILES", 3, "documents one request form posting may carry", parse=_positive
    )
    panel_public_url: str = setting(
        "HANDOFF_PANEL_PUBLIC_URL",
        "http://127.0.0.1:8080/panel/",
        "the customer panel as customers reach it (in mails)",
    )
    # live updates to consoles: auto (PostgreSQL LISTEN/NOTIFY on a
    # PostgreSQL database, in-process on SQLite), postgres or memory
    live_bus: str = setting(
        "HANDOFF_LIVE_BUS", "auto", "live updates: auto, postgres, memory", parse=_choice("auto", "postgres", "memory")
    )
    live_channel: str = setting("HANDOFF_LIVE_CHANNEL", "handoff_live", "the NOTIFY channel", parse=_identifier)
    # retention (handoff.services.retention) run by every `serve` replica
    retention_interval_seconds: float = setting(
        "HANDOFF_RETENTION_INTERVAL", 86400.0, "how often serve runs retention, seconds; 0: only the command"
    )
    # behind a reverse proxy: whose forwarding headers name the client
    # (handoff.proxies); the log-in throttle counts per client address
    trusted_proxies: tuple[str, ...] = setting(
        "HANDOFF_TRUSTED_PROXIES",
        (),
        "addresses/networks of proxies whose X-Forwarded-For (or real-IP header) is believed; empty: none",
        parse=_networks,
    )
    proxies_count: int = setting(
        "HANDOFF_PROXIES_COUNT", 0, "proxies in front of the service, for X-Forwarded-For", parse=_non_negative
    )
    real_ip_header: str = setting("HANDOFF_REAL_IP_HEADER", "", "a header holding the client address, e.g. X-Real-IP")
    forwarded_secret: str = setting(
        "HANDOFF_FORWARDED_SECRET",
        "",
        "secret the proxy puts in its Forwarded header; such a header is believed from any peer",
        secret=True,
    )
    login_address_max_failures: int = setting(
        "HANDOFF_LOGIN_ADDRESS_MAX_FAILURES",
        20,
        "failed log-ins per client address (any username) within the window before delays start",
        parse=_positive,
    )
    login_delay_seconds: float = setting(
        "HANDOFF_LOGIN_DELAY", 1.0, "first delay once the free log-ins are used; it doubles with each attempt"
    )
    login_max_delay_seconds: float = setting("HANDOFF_LOGIN_MAX_DELAY", 60.0, "longest delay between log-ins")
    password_threads: int = setting(
        "HANDOFF_PASSWORD_THREADS", 2, "threads that hash and verify passwords (off the event loop)", parse=_positive
    )
    allowed_origins: tuple[str, ...] = setting(
        "HANDOFF_ALLOWED_ORIGINS",
        (),
        "origins whose pages may send cookie-authenticated changes; empty: the service's own (the Host header)",
        parse=_origins,
    )

    # the customer web chat's conversation secrets (support_rules.conversations):
    # the same key as Rasa's, so a document sent from the chat proves its conversation
    conversation_secret_key: str = setting(
        "CONVERSATION_SECRET_KEY",
        "",
        "the key Rasa's channels sign conversation secrets with; empty: the web chat cannot send documents",
        secret=True,
    )
    # documents and screenshots (handoff.documents)
    document_max_bytes: int = setting(
        "HANDOFF_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, "largest document a customer may attach, bytes", parse=_positive
    )
    document_max_pixels: int = setting(
        "HANDOFF_DOCUMENT_MAX_PIXELS", 40_000_000, "largest image, pixels (width x height)", parse=_positive
    )
    document_store: str = setting(
        "HANDOFF_DOCUMENT_STORE",
        "directory",
        "where documents' bytes are kept: directory (HANDOFF_DOCUMENT_DIR) or sql (the service's database)",
        parse=_choice("directory", "sql"),
    )
    document_dir: Path = setting(
        "HANDOFF_DOCUMENT_DIR", Path("handoff_documents"), "the directory store (next to the SQLite file by default)"
    )
    clamd_address: str = setting(
        "HANDOFF_CLAMD_ADDRESS",
        "",
        "ClamAV's clamd as host:port or a Unix socket path; empty: no virus scan (content checks only)",
    )
    clamd_timeout_seconds: float = setting("HANDOFF_CLAMD_TIMEOUT", 30.0, "seconds clamd may take per document")


def setting_fields() -> list[dataclasses.Field[Any]]:
    """Every setting, in the order of ``Settings``."""
    return list(dataclasses.fields(Settings))


def _read(env: Mapping[str, str], item: dataclasses.Field[Any], root: Path) -> Any:
    meta = item.metadata
    raw = env.get(meta["env"])
    if raw is None or raw == "":
        return root / meta["under_root"] if meta["under_root"] else item.default
    parse: Parse = meta["parse"] or _PARSERS[type(item.default) if not isinstance(item.default, Path) else Path]
    return parse(meta["env"], raw)


def load_settings(env: Mapping[str, str] | None = None, *, require_secrets: bool = True) -> Settings:
    """Build settings from ``env`` (default ``os.environ``).

    ``require_secrets`` is false for commands that never serve requests
    (migrations, retention).
    """
    env = os.environ if env is None else env
    fields = setting_fields()
    root = _read(env, next(f for f in fields if f.name == "repo_root"), REPO_ROOT)
    values = {f.name: _read(env, f, root) for f in fields}
    dev = values["dev_insecure"]
    if require_secrets and not (values["service_token"] and values["secret_key"]) and not dev:
        raise SettingsError(
            "HANDOFF_SERVICE_TOKEN and HANDOFF_SECRET_KEY must be set "
            "(or HANDOFF_DEV_INSECURE=1 for a throwaway development run)"
        )
    if dev:
        # never a value written anywhere: a fresh random one for every start
        values["service_token"] = values["service_token"] or secrets.token_urlsafe(32)
        values["secret_key"] = values["secret_key"] or secrets.token_urlsafe(32)
    if (values["proxies_count"] or values["real_ip_header"]) and not values["trusted_proxies"]:
        raise SettingsError(
            "HANDOFF_PROXIES_COUNT and HANDOFF_REAL_IP_HEADER need HANDOFF_TRUSTED_PROXIES "
            "(the proxies' addresses); otherwise any client could name its own address"
        )
    return Settings(**values)


def dev_secrets_warning(env: Mapping[str, str] | None = None) -> str | None:
    """The warning ``serve`` prints when HANDOFF_DEV_INSECURE=1 made up a secret, or None."""
    env = os.environ if env is None else env
    if not _flag("HANDOFF_DEV_INSECURE", env.get("HANDOFF_DEV_INSECURE", "")):
        return None
    generated = [name for name in ("HANDOFF_SERVICE_TOKEN", "HANDOFF_SECRET_KEY") if not env.get(name)]
    if not generated:
        return None
    bar = "!" * 78
    return (
        f"{bar}\n"
        f"HANDOFF_DEV_INSECURE=1: generated a random {' and a random '.join(generated)} for this start only.\n"
        "The bot cannot reach this service with a token it does not know, and every agent session\n"
        "ends when the service restarts. For a real run set both secrets, for example:\n"
        "  export HANDOFF_SERVICE_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\n"
        "  export HANDOFF_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\n"
        "and unset HANDOFF_DEV_INSECURE (make run writes them to .env.local).\n"
        f"{bar}"
    )


# what a child process (git, Rasa's check, the training) may see of this
# one's environment: where programs and the home are, the locale; never the
# service's secrets or its database's address
_CHILD_VARIABLES = ("PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "PYTHONPATH")


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child process (git, the bot's Python) runs with:
    the few harmless variables of this process's own, plus ``extra``."""
    kept = {name: os.environ[name] for name in _CHILD_VARIABLES if name in os.environ}
    return {**kept, **(extra or {})}
