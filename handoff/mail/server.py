"""The desk's inbound SMTP server (aiosmtpd), on the app's own event loop.

``handoff serve`` starts it when ``HANDOFF_SMTP_LISTEN`` (host:port) is set.
Each mail is parsed and handled in one transaction, and answered 250 only
once that transaction has committed; a failure of the desk's own answers
451 (the sending server retries: nothing is lost, and the Message-ID makes
a retry harmless). A malformed mail is never refused with a 5xx: it is
read as well as it can be. Recipients other than the desk's address or
its domain are refused with 550 (no open relay).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sanic import Sanic
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.live_bus import LiveBus
from handoff.mail.parse import InboundMail, parse_mail
from handoff.mail.serve import wake_mail_worker
from handoff.services.inbound_mail import MailDesk, MailOutcome, handle_mail
from handoff.services.mail_attachments import DocumentChecks
from handoff.services.outbound_mail import load_mail_texts
from handoff.settings import Settings

__all__ = ["DeskHandler", "DeskSMTP", "setup_mail_server", "parse_listen", "make_desk"]

log = logging.getLogger("handoff.mail")

OK = "250 2.0.0 OK: queued"
RETRY = "451 4.3.0 Temporary failure, please try again later"
NO_RELAY = "550 5.7.1 Relaying denied: this server takes mail for the support desk only"


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"HANDOFF_SMTP_LISTEN must be host:port, not {value!r}")
    return host.strip("[]"), int(port)


def _with_envelope(mail: InboundMail, mail_from: str | None) -> InboundMail:
    """The SMTP envelope's sender: a null one (``MAIL FROM:<>``) is a bounce's."""
    envelope_sender = (mail_from or "").strip().strip("<>").lower()
    headers = dict(mail.headers)
    if not envelope_sender:
        headers["return-path"] = "<>"
    return dataclasses.replace(mail, headers=headers, sender=mail.sender or envelope_sender)


class DeskHandler:
    """aiosmtpd's handler: recipients checked, each mail handled once."""

    def __init__(
        self,
        *,
        desk: MailDesk,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: LiveBus | None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.desk = desk
        self.sessionmaker = sessionmaker
        self.bus = bus
        self._wake = wake  # the relay worker: what the mail queued (an answer, a question) leaves now
        address = desk.settings.mail_address.strip().lower()
        self._address = address
        self._domain = "@" + address.rpartition("@")[2]

    def accepts(self, recipient: str) -> bool:
        recipient = recipient.strip().lower()
        return recipient == self._address or recipient.endswith(self._domain)

    async def handle_RCPT(  # aiosmtpd names its hooks
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.accepts(address):
            return NO_RELAY
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            mail = await asyncio.to_thread(parse_mail, raw)  # a 20 MB mail takes a while: not on the loop
            outcome = await self.receive(_with_envelope(mail, envelope.mail_from))
        except Exception:
            log.exception("an inbound mail could not be handled; the sender is asked to retry")
            return RETRY
        if self._wake is not None:
            self._wake()
        await self._publish(outcome)
        return OK

    async def receive(self, mail: InboundMail) -> MailOutcome:
        async with self.sessionmaker() as session, session.begin():
            outcome = await handle_mail(session=session, desk=self.desk, mail=mail)
        log.info(
            "mail %s from %s: %s %s", mail.message_id[:80], mail.sender, outcome.action, outcome.ticket_number or ""
        )
        return outcome

    async def _publish(self, outcome: MailOutcome) -> None:
        if self.bus is None:
            return
        for update in outcome.updates:
            try:
                await self.bus.publish(update)
            except Exception:  # the mail is in; consoles see it on their next load
                log.warning("a live update of an inbound mail was not published", exc_info=True)


class DeskSMTP(SMTP):
    """aiosmtpd's SMTP with lines as long as a whole mail: a sender that
    ends lines with a bare LF (or writes 5,000-character lines) sends one
    long "line", which RFC 5321 would refuse with a 5xx; the desk reads it."""

    def __init__(self, handler: DeskHandler, *, max_bytes: int, **options: Any) -> None:
        self.line_length_limit = max(SMTP.line_length_limit, max_bytes + 2)
        super().__init__(handler, data_size_limit=max_bytes, **options)


def make_desk(app: Sanic, settings: Settings) -> MailDesk:
    ctx = app.ctx
    return MailDesk(
        settings=settings,
        texts=load_mail_texts(settings.mail_texts_path),
        triage=ctx.triage,
        checks=DocumentChecks(store=ctx.document_store, scanner=ctx.scanner, settings=settings),
    )


def setup_mail_server(app: Sanic, settings: Settings) -> None:
    """The SMTP server from the app's start to its stop, when ``smtp_listen`` is set."""
    if not settings.smtp_listen:
        return
    host, port = parse_listen(settings.smtp_listen)

    @app.after_server_start
    async def _start_smtp(app: Sanic, _loop: Any = None) -> None:
        loop = asyncio.get_running_loop()
        handler = DeskHandler(
            desk=make_desk(app, settings),
            sessionmaker=app.ctx.sessionmaker,
            bus=app.ctx.bus,
            wake=lambda: wake_mail_worker(app),
        )
        hostname = settings.mail_address.rpartition("@")[2] or "localhost"
        app.ctx.mail_handler = handler
        app.ctx.smtp_server = await loop.create_server(
            lambda: DeskSMTP(
                handler,
                max_bytes=settings.mail_max_bytes,
                enable_SMTPUTF8=True,
                hostname=hostname,
                ident="handoff support desk",
                loop=loop,
            ),
            host,
            port,
        )
        log.info("SMTP server for %s on %s:%s", settings.mail_address, host, port)

    @app.before_server_stop
    async def _stop_smtp(app: Sanic, _loop: Any = None) -> None:
        server = getattr(app.ctx, "smtp_server", None)
        if server is not None:
            app.ctx.smtp_server = None
            server.close()
            await server.wait_closed()
