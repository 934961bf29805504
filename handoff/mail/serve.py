"""The relay worker in the background of ``serve`` (handoff.mail.worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sanic import Sanic

from handoff.mail.relay import make_relay
from handoff.mail.worker import RelayWorker
from handoff.settings import Settings
from support_rules.language import SUPPORTED_LANGUAGES

__all__ = ["setup_mail_relay", "mail_domain", "wake_mail_worker"]

log = logging.getLogger("handoff.mail")


def mail_domain(settings: Settings) -> str:
    """The domain of the desk's Message-IDs: its support address's."""
    return settings.mail_address.rpartition("@")[2] or "desk.localhost"


def wake_mail_worker(app: Sanic) -> None:
    """A mail was just queued here: this replica's worker sends it now
    (the others find it at their next poll)."""
    worker = getattr(app.ctx, "mail_worker", None)
    if worker is not None:
        worker.wake()


def setup_mail_relay(app: Sanic, settings: Settings, enabled: bool) -> None:
    """Queued mail leaves through HANDOFF_MAIL_RELAY from the server's start
    to its stop; ``serve`` turns it on. No relay set: mail stays queued
    (an agent's reply shows as waiting to be sent)."""
    if not enabled:
        return
    relay = make_relay(
        settings.mail_relay,
        username=settings.mail_relay_user,
        password=settings.mail_relay_password,
        timeout=settings.mail_relay_timeout_seconds,
    )
    if relay is None:
        log.warning("HANDOFF_MAIL_RELAY is not set: e-mail replies and notices stay queued")
        return

    @app.after_server_start
    async def _start_mail_relay(app: Sanic, _loop: Any = None) -> None:
        texts = app.ctx.mail_texts
        app.ctx.mail_worker = RelayWorker(
            sessionmaker=app.ctx.sessionmaker,
            relay=relay,
            from_address=settings.mail_address,
            display_names={language: texts.render("from_name", language) for language in SUPPORTED_LANGUAGES},
            bus=app.ctx.bus,
            poll_seconds=settings.mail_relay_poll_seconds,
            retry_seconds=settings.mail_retry_seconds,
            retry_max_seconds=settings.mail_retry_max_seconds,
            send_timeout_seconds=settings.mail_relay_timeout_seconds,
        )
        app.ctx.mail_relay_task = asyncio.create_task(app.ctx.mail_worker.run())

    @app.before_server_stop
    async def _stop_mail_relay(app: Sanic, _loop: Any = None) -> None:
        task = getattr(app.ctx, "mail_relay_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
