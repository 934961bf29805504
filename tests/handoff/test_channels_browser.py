"""Every channel into one console, end to end: a request from the form and
one by e-mail (a real SMTP session against the desk's own server), worked
by an agent in headless Chromium, whose answers reach the customers by
e-mail through a real SMTP sink; and one customer who writes about one
problem by chat, form and e-mail gets one request (a second problem gets a
second one)."""

from __future__ import annotations

import asyncio
import os
import smtplib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sanic import Sanic
from sqlalchemy import select

from handoff.app import create_app
from handoff.models import MailSender, Message, Ticket, utcnow
from handoff.services.channel import RecordingChannel
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_VERIFIED
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.factories import summary
from tests.handoff.form_helpers import CUSTOMER_SECRET, adult_fields, post_form
from tests.handoff.helpers import PASSWORD, bot_headers, free_port, make_settings
from tests.handoff.mail_helpers import SmtpSink

DESK = "support@desk.localhost"
SHOTS = os.environ.get("HANDOFF_CHANNEL_SCREENSHOTS")


@dataclass
class Desk:
    app: Sanic
    base_url: str
    smtp_port: int
    sink: SmtpSink
    chat: RecordingChannel

    async def mail(self, sender: str, subject: str, text: str, **headers: str) -> str:
        """Send a mail to the desk over SMTP (a thread: the desk runs on this loop); its Message-ID."""
        return await asyncio.to_thread(self._mail, sender, subject, text, **headers)

    def _mail(self, sender: str, subject: str, text: str, **headers: str) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, DESK, subject
        msg["Message-ID"] = make_msgid(domain="example.org")
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(text)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            refused = smtp.send_message(msg)
        assert refused == {}
        return str(msg["Message-ID"])

    async def adult(self, *addresses: str) -> None:
        async with self.app.ctx.sessionmaker() as session, session.begin():
            for address in addresses:
                session.add(MailSender(address=address, adult_checked_at=utcnow(), updated_at=utcnow()))

    async def tickets(self) -> list[Ticket]:
        async with self.app.ctx.sessionmaker() as session:
            return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())

    async def lines(self, ticket_id: int) -> list[Message]:
        async with self.app.ctx.sessionmaker() as session:
            stmt = select(Message).where(Message.ticket_id == ticket_id, Message.sender == "customer")
            return list((await session.execute(stmt.order_by(Message.id))).scalars())


@pytest.fixture
async def desk(db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path) -> AsyncIterator[Desk]:
    sink = await SmtpSink().start()
    smtp_port = free_port()
    chat = RecordingChannel()
    settings = make_settings(
        db_url,
        smtp_listen=f"127.0.0.1:{smtp_port}",
        mail_address=DESK,
        mail_relay=sink.url,
        mail_retry_seconds=0.3,
        mail_relay_poll_seconds=0.1,
        document_dir=tmp_path / "documents",
        customer_token_secret=CUSTOMER_SECRET,
    )
    app = create_app(settings, channel=chat, name=f"channels_{uuid.uuid4().hex[:8]}", send_mail=True)
    running = await start_app(app)
    try:
        yield Desk(app, running.base_url, smtp_port, sink, chat)
    finally:
        await sink.stop()


async def _until(check, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def _answer(page: Page, number: str, text: str) -> None:
    item = page.locator(f'#queue li[data-number="{number}"]')
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    await expect(page.locator("#ticket-number")).to_have_text(number)
    await page.click("#claim-this")
    await expect(page.locator("#reply-form")).to_be_visible()
    await page.fill("#reply-text", text)
    await page.click("#reply-send")
    reply = page.locator("#transcript li.agent").last
    await expect(reply).to_have_class("agent mail-sent", timeout=15_000)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_agent_answers_a_form_request_and_an_email_request_and_both_customers_get_mail(
    browser: Browser, desk: Desk
) -> None:
    await desk.adult("john@example.org")
    async with httpx.AsyncClient(base_url=desk.base_url, timeout=30) as client:
        form = await post_form(client, adult_fields(email="ayse@example.com"))
    assert form.status_code == 201, form.text
    form_number = form.json()["ticket_number"]
    await desk.mail(
        "John Smith <john@example.org>", "Withdrawal missing", "Hello, my withdrawal of yesterday has not arrived."
    )
    await _until(lambda: _count(desk, 2))
    mail_number = next(t.number for t in await desk.tickets() if t.channel == "email")
    await _until(lambda: _received(desk, 2))  # the two acknowledgements
    assert sorted(m["To"] for m in desk.sink.received) == ["ayse@example.com", "john@example.org"]
    assert all(m["Auto-Submitted"] == "auto-replied" for m in desk.sink.received)

    page = await (await browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")).new_page()
    await page.goto(f"{desk.base_url}/console/")
    await page.fill("#login-username", "fin")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    await expect(page.locator(f'#queue li[data-number="{form_number}"] .badge.channel')).to_have_text("request form")
    await expect(page.locator(f'#queue li[data-number="{mail_number}"] .badge.channel')).to_have_text("e-mail")

    await _answer(page, form_number, "Merhaba Ayşe, yatırımınızı kontrol ediyorum.")
    await _answer(page, mail_number, "Hello John, your withdrawal is on its way.")
    await _shot(page, "console-email-request-answered-1400")
    await _until(lambda: _received(desk, 4))
    replies = {
        m["To"]: m
        for m in desk.sink.received
        if f"[{form_number}]" in m["Subject"] or f"[{mail_number}]" in m["Subject"]
    }
    assert f"[{form_number}]" in replies["ayse@example.com"]["Subject"]
    assert "yatırımınızı kontrol ediyorum" in replies["ayse@example.com"].get_content()
    john = replies["john@example.org"]
    assert f"[{mail_number}]" in john["Subject"] and "on its way" in john.get_content()
    assert john["In-Reply-To"] and john["References"]  # threaded under the customer's mail
    assert desk.chat.sent == []  # nothing of it went near the chat


async def _count(desk: Desk, n: int) -> bool:
    return len(await desk.tickets()) >= n


async def _received(desk: Desk, n: int) -> bool:
    return len(desk.sink.received) >= n


async def test_one_customer_on_chat_form_and_email_about_one_problem_gets_one_request(desk: Desk) -> None:
    """The customer is the account the platform's token proves (the chat,
    the signed-in form) and the address the form gave (the mail); a chat's
    typed address alone would join nothing (tests/handoff/test_contacts.py)."""
    address = f"ayse.{uuid.uuid4().hex[:6]}@example.com"
    await desk.adult(address)  # an earlier mail of hers passed the age check
    async with httpx.AsyncClient(base_url=desk.base_url, timeout=30) as client:
        chat = summary(
            "finance",
            conversation_id="chat-ayse",
            username="ayse_k",
            username_source=USERNAME_VERIFIED,
            topic={"id": "withdrawal", "label": "Para çekme"},
            transcript=[{"sender": "customer", "text": "Çekimim gelmedi", "timestamp": utcnow().isoformat()}],
        )
        first = await client.post("/api/v1/handoffs", json=chat, headers=bot_headers("chat-1"))
        assert first.status_code == 201, first.text
        number = first.json()["ticket_number"]
        token = mint_customer_token("ayse_k", CUSTOMER_SECRET)
        assert (await client.post("/panel/api/session", json={"token": token})).status_code == 200
        fields = adult_fields(email=address.upper(), topic="withdrawal", transaction_type="withdrawal")
        fields.pop("birth_date")  # signed in: the token proved the age
        fields["description"] = "Formdan da yazıyorum: çekim talebim hâlâ beklemede."
        form = await post_form(client, fields)
        assert form.status_code in (200, 201), form.text
        assert form.json()["ticket_number"] == number and form.json()["joined"] is True
        other = await post_form(client, {**fields, "topic": "login", "transaction_type": ""})
        assert other.status_code == 201, other.text
        assert other.json()["ticket_number"] != number
    await desk.mail(address, "Para çekme", "Merhaba, para çekme talebim hâlâ hesabıma geçmedi, ne zaman gelir?")
    await _until(lambda: _lines_on(desk, number, "email"))
    tickets = await desk.tickets()
    assert len(tickets) == 2  # the withdrawal, and the log-in problem
    channels = {m.channel for m in await desk.lines(tickets[0].id)}
    assert {None, "form", "email"} <= channels  # the chat's own lines, the form's and the mail's
    # the customer is told the existing number by mail (the form's answer said it too)
    await _until(lambda: _received(desk, 3))
    told = [m for m in desk.sink.received if m["To"] == address.lower()]
    assert sum(number in m.get_content() for m in told) >= 2


async def _lines_on(desk: Desk, number: str, channel: str) -> bool:
    return any(m.channel == channel for m in await desk.lines(int(number[2:])))
