"""E-mail test helpers: a real SMTP sink (aiosmtpd) on a real socket in
the test's event loop, and requests that came by e-mail or the request
form, opened through the desk's own intake (handoff.services.intake)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import MailMessage, OutboundMail, Ticket, utcnow
from handoff.schemas import SummaryValidator
from handoff.services.intake import Contact, IntakeRequest, Triage, open_request
from handoff.services.queue_positions import QueueRules
from handoff.settings import Settings
from stack.live import free_port

__all__ = ["SmtpSink", "triage_for", "open_mail_request", "outbound_rows", "wait_until"]


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        content = cast(bytes, envelope.content)
        self.sink.received.append(cast(EmailMessage, message_from_bytes(content, policy=policy.default)))
        self.sink.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpSink:
    """An SMTP server that keeps every mail it accepts (parsed)."""

    def __init__(
        self, port: int | None = None, *, delay: float = 0.0, credentials: tuple[str, str] | None = None
    ) -> None:
        self.port = port or free_port()
        self.delay = delay
        self.credentials = credentials  # a log-in required (over plain text: a test on 127.0.0.1)
        self.logins: list[str] = []
        self.received: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", self.port)
        return self

    def _protocol(self) -> SMTP:
        if self.credentials is None:
            return SMTP(_Collect(self), hostname="sink.test")
        return SMTP(
            _Collect(self),
            hostname="sink.test",
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=False,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.credentials
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        await wait_until(lambda: len(self.received) >= count, timeout=timeout)
        return self.received


async def wait_until(predicate: Any, timeout: float = 15.0, step: float = 0.05) -> None:
    """Until ``predicate()`` (a coroutine function's result awaited) is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


def triage_for(settings: Settings) -> Triage:
    return Triage(
        catalogue_path=settings.catalogue_path,
        validator=SummaryValidator(settings.summary_schema_path),
        queue_rules=QueueRules(3600, 300, 900),
        username_pattern=settings.username_pattern,
        max_age_days=settings.transaction_max_age_days,
        timezone=settings.support_timezone,
    )


async def open_mail_request(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    channel: str = "email",
    email: str = "ayse@example.com",
    language: str = "tr",
    description: str = "Dün yatırdığım para hesabıma yansımadı.",
    inbound_message_id: str | None = None,
    conversation_id: str | None = None,
) -> Ticket:
    """A deposit request that came by ``channel`` from ``email``; a mail's
    own Message-ID recorded as inbound (as the inbound side records it)."""
    contact = Contact(channel=channel, conversation_id=conversation_id or f"{channel}:{uuid.uuid4().hex}", email=email)
    request = IntakeRequest(
        contact=contact,
        language=language,
        description=description,
        topic_id="deposit",
        transaction_type_id="deposit",
        transaction_date=date.today(),
        username="ayse_k",
    )
    async with sessionmaker() as session, session.begin():
        result = await open_request(session=session, request=request, triage=triage_for(settings))
        if inbound_message_id is not None:
            session.add(
                MailMessage(
                    message_id=inbound_message_id, direction="in", ticket_id=result.ticket.id, created_at=utcnow()
                )
            )
        return result.ticket


async def outbound_rows(sessionmaker: async_sessionmaker[AsyncSession], **where: Any) -> list[OutboundMail]:
    async with sessionmaker() as session:
        stmt = select(OutboundMail).filter_by(**where).order_by(OutboundMail.id)
        return list((await session.execute(stmt)).scalars())
