"""Application factory: ``create_app(settings) -> Sanic``.

Nothing connects here; the engine and other resources are created in a
``before_server_start`` listener and kept on ``app.ctx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Request, Sanic, json
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

from handoff.api import BLUEPRINTS
from handoff.api.conversations import bp as conversations_bp
from handoff.broker import ConsumerTask, make_consumer
from handoff.cross_origin import SAFE_METHODS, allowed_origin
from handoff.db import make_engine, make_sessionmaker
from handoff.documents.scanner import make_scanner
from handoff.documents.storage import make_store
from handoff.errors import ApiError, Forbidden, TooManyRequests
from handoff.live_bus import LiveBus, make_live_bus
from handoff.mail.serve import mail_domain, setup_mail_relay
from handoff.mail.server import setup_mail_server
from handoff.notice_texts import load_notice_texts
from handoff.proxies import TrustedProxies, configure_forwarding
from handoff.schemas import SummaryValidator
from handoff.security import PasswordPool, SessionSigner
from handoff.services.channel import CustomerChannel, RecordingChannel
from handoff.services.intake import Triage
from handoff.services.login_limits import LoginLimiter, ThrottleRules
from handoff.services.mail_channel import MailAwareChannel
from handoff.services.mail_replies import ReplyByMail
from handoff.services.outbound_mail import load_mail_texts
from handoff.services.queue_notices import QueueNotifier
from handoff.services.queue_positions import QueueRules
from handoff.services.rasa_channel import RasaChannel
from handoff.services.retention import RetentionJob
from handoff.settings import Settings
from support_rules.catalogue import load_catalogue
from support_rules.verification import load_verification

__all__ = ["create_app"]

log = logging.getLogger("handoff")

_SANIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    503: "unavailable",
}


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return json({"error": {"code": code, "message": message}}, status=status)


def setup_errors(app: Sanic) -> None:
    """One JSON error shape everywhere; no stack trace leaves the service."""

    async def handle(request: Request, exc: Exception) -> HTTPResponse:
        if isinstance(exc, TooManyRequests) and exc.retry_after:
            response = _error(exc.status, exc.code, exc.message)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, ApiError):
            return _error(exc.status, exc.code, exc.message)
        if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
            code = _SANIC_CODES.get(exc.status_code, "bad_request")
            message = {413: "request body too large", 404: "not found", 405: "method not allowed"}.get(
                exc.status_code, "bad request"
            )
            return _error(exc.status_code, code, message)
        log.exception("unhandled error on %s %s", request.method if request else "?", request.path if request else "?")
        return _error(500, "internal_error", "internal error")

    app.error_handler.add(Exception, handle)


def setup_resources(app: Sanic, settings: Settings, channel: CustomerChannel | None, bus: LiveBus | None) -> None:
    app.ctx.settings = settings
    # mail requests never reach the chat (handoff.services.mail_channel)
    app.ctx.channel = MailAwareChannel(channel or default_channel(settings))
    app.ctx.bus = bus or make_live_bus(settings)

    @app.before_server_start
    async def _open(app: Sanic, _loop: Any = None) -> None:
        app.ctx.engine = make_engine(settings.database_url)
        app.ctx.sessionmaker = make_sessionmaker(app.ctx.engine)
        app.ctx.summary_validator = SummaryValidator(settings.summary_schema_path)
        app.ctx.signer = SessionSigner(settings.secret_key, settings.session_max_age_seconds)
        app.ctx.login_limiter = LoginLimiter(
            app.ctx.sessionmaker,
            ThrottleRules(
                max_failures=settings.login_max_failures,
                address_max_failures=settings.login_address_max_failures,
                window_seconds=settings.login_window_seconds,
                delay_seconds=settings.login_delay_seconds,
                max_delay_seconds=settings.login_max_delay_seconds,
            ),
        )
        app.ctx.passwords = PasswordPool(settings.password_threads)
        app.ctx.queue_rules = QueueRules(
            settings.rate_window_seconds, settings.default_handle_seconds, settings.verification_handle_seconds
        )
        app.ctx.notice_texts = load_notice_texts(settings.notices_path)
        app.ctx.document_store = make_store(
            settings.document_store, directory=settings.document_dir, engine=app.ctx.engine
        )
        app.ctx.scanner = make_scanner(settings.clamd_address, timeout=settings.clamd_timeout_seconds)
        app.ctx.verification = load_verification(settings.verification_path)
        # the bot's triage, for the request form and e-mail (handoff.services.intake)
        app.ctx.triage = Triage.from_settings(
            settings, app.ctx.summary_validator, app.ctx.queue_rules, app.ctx.verification.topics
        )
        app.ctx.mail_texts = load_mail_texts(settings.mail_texts_path)
        app.ctx.reply_by_mail = ReplyByMail(
            app.ctx.mail_texts, mail_domain(settings), catalogue=load_catalogue(settings.catalogue_path)
        )
        await app.ctx.bus.start()

    @app.after_server_stop
    async def _close(app: Sanic, _loop: Any = None) -> None:
        await app.ctx.bus.close()
        await app.ctx.channel.close()
        await app.ctx.engine.dispose()
        app.ctx.passwords.close()


def default_channel(settings: Settings) -> CustomerChannel:
    """Rasa's HTTP API when RASA_URL is set, otherwise a channel that only records."""
    if settings.rasa_url:
        return RasaChannel(settings.rasa_url, settings.rasa_jwt_secret, timeout=settings.rasa_timeout_seconds)
    log.warning("RASA_URL is not set: agent replies are recorded, not delivered to customers")
    return RecordingChannel()


def _run_while_serving(app: Sanic, name: str, start: Callable[[Sanic], Coroutine[Any, Any, None]]) -> None:
    """``start(app)`` as a task from the server's start to its stop, kept on
    ``app.ctx.<name>``."""

    @app.after_server_start
    async def _start(app: Sanic, _loop: Any = None) -> None:
        setattr(app.ctx, name, asyncio.create_task(start(app)))

    @app.before_server_stop
    async def _stop(app: Sanic, _loop: Any = None) -> None:
        task = getattr(app.ctx, name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def setup_queue_notices(app: Sanic, settings: Settings, enabled: bool) -> None:
    """Waiting customers hear when they move up the queue (see queue_notices)."""
    if not enabled:
        return

    def notifier(app: Sanic) -> Coroutine[Any, Any, None]:
        return QueueNotifier(
            sessionmaker=app.ctx.sessionmaker,
            channel=app.ctx.channel,
            texts=app.ctx.notice_texts,
            rules=app.ctx.queue_rules,
            interval_seconds=settings.queue_notice_interval_seconds,
            poll_seconds=settings.queue_notice_poll_seconds,
            abandon_after_seconds=settings.abandon_after_seconds,
            bus=app.ctx.bus,
        ).run()

    _run_while_serving(app, "queue_notifier_task", notifier)


def setup_retention(app: Sanic, settings: Settings, enabled: bool) -> None:
    """Retention in the background, every HANDOFF_RETENTION_INTERVAL seconds
    (handoff.services.retention); ``serve`` turns it on."""
    if not enabled or settings.retention_interval_seconds <= 0:
        return

    def job(app: Sanic) -> Coroutine[Any, Any, None]:
        return RetentionJob(
            sessionmaker=app.ctx.sessionmaker,
            interval_seconds=settings.retention_interval_seconds,
            archive_after_days=settings.archive_after_days,
            purge_after_days=settings.purge_after_days,
            login_window_seconds=settings.login_window_seconds,
            abandon_after_seconds=settings.abandon_after_seconds,
            bus=app.ctx.bus,
            document_store=app.ctx.document_store,
            rate_window_seconds=settings.form_window_seconds,
        ).run()

    _run_while_serving(app, "retention_task", job)


def setup_event_consumer(app: Sanic, settings: Settings, enabled: bool | None = None) -> None:
    """Follow Rasa's event broker in the background (``handoff.broker``):
    transcripts of every conversation, customer messages to their tickets.

    ``enabled`` None: on unless ``settings.events_source`` is ``off`` or the
    app runs in Sanic's test mode (tests ask for it with True).
    """
    if enabled is None:
        enabled = not Sanic.test_mode
    if not enabled or settings.events_source == "off":
        return

    @app.after_server_start
    async def _start_event_consumer(app: Sanic, _loop: Any = None) -> None:
        source = make_consumer(settings, sessionmaker=app.ctx.sessionmaker, bus=app.ctx.bus, channel=app.ctx.channel)
        if source is not None:
            app.ctx.event_consumer = ConsumerTask(source)
            app.ctx.event_consumer.start()

    @app.before_server_stop
    async def _stop_event_consumer(app: Sanic, _loop: Any = None) -> None:
        consumer = getattr(app.ctx, "event_consumer", None)
        if consumer is not None:
            await consumer.stop()


def setup_headers(app: Sanic) -> None:
    @app.on_response
    async def _no_sniff(request: Request, response: HTTPResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")


def setup_proxies(app: Sanic, settings: Settings) -> None:
    """Whose forwarding headers name the client (handoff.proxies)."""
    configure_forwarding(
        app.config,
        proxies_count=settings.proxies_count,
        real_ip_header=settings.real_ip_header,
        forwarded_secret=settings.forwarded_secret,
    )
    app.ctx.proxies = TrustedProxies(settings.trusted_proxies)


def setup_cross_origin_check(app: Sanic, settings: Settings) -> None:
    """Changes a browser could send with the session cookie come from an
    allowed origin (handoff.cross_origin); bearer-token clients are not
    concerned."""

    @app.on_request
    async def _same_origin(request: Request) -> None:
        if request.method in SAFE_METHODS or request.headers.get("authorization", "").lower().startswith("bearer "):
            return
        if not allowed_origin(request.headers, host=request.headers.get("host", ""), allowed=settings.allowed_origins):
            raise Forbidden(
                "cross-origin request refused: send it from the console's own page (or set HANDOFF_ALLOWED_ORIGINS)",
                code="cross_origin",
            )


def create_app(
    settings: Settings,
    *,
    channel: CustomerChannel | None = None,
    bus: LiveBus | None = None,
    name: str = "handoff",
    consume_events: bool | None = None,
    queue_notices: bool = False,
    retention: bool = False,
    send_mail: bool = False,
) -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1.0
    app.config.RESPONSE_TIMEOUT = 3600
    app.config.KEEP_ALIVE_TIMEOUT = 30
    setup_resources(app, settings, channel, bus)
    setup_queue_notices(app, settings, queue_notices)
    setup_errors(app)
    setup_headers(app)
    setup_proxies(app, settings)
    setup_cross_origin_check(app, settings)
    setup_event_consumer(app, settings, consume_events)
    setup_retention(app, settings, retention)
    setup_mail_server(app, settings)
    setup_mail_relay(app, settings, send_mail)
    for bp in BLUEPRINTS:
        app.blueprint(bp)
    app.blueprint(conversations_bp)
    return app
