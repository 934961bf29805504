"""The console and a request that came by e-mail, in headless Chromium: the
ticket's channel in the list and the card, each customer line's channel,
and an agent's reply that waits for the relay, then shows as sent when
``message.delivered`` arrives (no reload)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.live_bus import InMemoryLiveBus
from handoff.models import Ticket
from handoff.services.channel import RecordingChannel
from handoff.services.contacts import join_request
from support_rules.summary import TranscriptLine
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.helpers import PASSWORD, make_settings
from tests.handoff.mail_helpers import SmtpSink, open_mail_request

SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a folder: screenshots for a person to look at


async def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


async def _log_in(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", "fin")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
async def test_an_email_reply_waits_then_shows_as_sent_live(
    browser: Browser,
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    start_app: StartApp,
    width: int,
) -> None:
    sink = SmtpSink()  # the relay is down until the reply waits
    settings = make_settings(
        db_url, mail_relay=sink.url, mail_retry_seconds=0.3, mail_retry_max_seconds=0.5, mail_relay_poll_seconds=0.1
    )
    ticket = await open_mail_request(sessionmaker, settings, description="Param hesabıma geçmedi.")
    async with sessionmaker() as session, session.begin():  # and a line from the request form
        row = await session.get(Ticket, ticket.id)
        assert row is not None
        await join_request(
            session=session,
            ticket=row,
            channel="form",
            conversation_id="form:posting-1",
            email="ayse@example.com",
            lines=[
                TranscriptLine(sender="customer", text="Dekontu forma ekledim.", timestamp=datetime.now(timezone.utc))
            ],
        )
    app = create_app(
        settings, channel=RecordingChannel(), bus=InMemoryLiveBus(), name=f"h_{uuid.uuid4().hex[:8]}", send_mail=True
    )
    base_url = (await start_app(app)).base_url

    page = await browser.new_page(viewport={"width": width, "height": 900})
    await _log_in(page, base_url)
    item = page.locator(f'#queue li[data-number="{ticket.number}"]')
    await expect(item.locator(".badge.channel")).to_have_text("e-mail")
    await item.focus()
    await page.keyboard.press("Enter")  # the list works from the keyboard
    await expect(page.locator("#ticket-number")).to_have_text(ticket.number)
    await expect(page.locator("#card-channel")).to_have_text("e-mail")
    await page.click("#claim-this")
    await expect(page.locator("#reply-form")).to_be_visible()
    lines = page.locator("#transcript li.customer")
    await expect(lines.nth(0).locator(".via")).to_have_text("by e-mail")
    await expect(lines.nth(1).locator(".via")).to_have_text("via the request form")
    await page.evaluate("window.__sameDocument = true")

    await page.fill("#reply-text", "Merhaba Ayşe, dekontunuzu inceliyorum.")
    await page.click("#reply-send")
    reply = page.locator("#transcript li.agent").last
    await expect(reply).to_have_class("agent mail-waiting")
    await expect(reply.locator(".mail-note")).to_have_text("waiting to be sent by e-mail")
    await expect(page.locator("#action-error")).to_have_text("")  # waiting is not a failure
    await _shot(page, f"console-mail-waiting-{width}.png")

    await sink.start()  # the relay is back: the worker's next try sends it
    try:
        await expect(reply).to_have_class("agent mail-sent", timeout=15_000)
        await expect(reply.locator(".mail-note")).to_have_text("sent by e-mail")
        assert await page.evaluate("window.__sameDocument") is True
        await page.click("#lang-toggle")
        await expect(reply.locator(".mail-note")).to_have_text("e-postayla gönderildi")
        await expect(lines.nth(0).locator(".via")).to_have_text("e-postayla")
        await expect(page.locator("#card-channel")).to_have_text("e-posta")
        await expect(page.locator(f'#mine li[data-number="{ticket.number}"] .badge.channel')).to_have_text("e-posta")
        await _shot(page, f"console-mail-sent-tr-{width}.png")
        assert len(sink.received) == 1 and f"[{ticket.number}]" in sink.received[0]["Subject"]
    finally:
        await sink.stop()
    # nothing wider than the phone's screen
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
