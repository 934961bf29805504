"""The request form in headless Chromium (Debian's package, driven by
Playwright): an anonymous customer in Turkish on a phone, corrected by the
page's own checks and sending with the keyboard, whose request the agent's
console (a second browser context) shows at once, claims and reads; a
signed-in customer in English on a wide screen (no birth date, documents
one of which the service refuses) who goes on to the panel; and a customer
under 18. Screenshots go to ``HANDOFF_FORM_SCREENSHOTS`` when it names a
directory."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sanic import Sanic
from sqlalchemy import func, select

from handoff.app import create_app
from handoff.models import Ticket
from support_rules.customer_token import mint_customer_token
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import png, zip_bytes
from tests.handoff.form_helpers import CUSTOMER_SECRET, days_ago, desk_today
from tests.handoff.helpers import PASSWORD, make_settings

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
SHOTS = os.environ.get("HANDOFF_FORM_SCREENSHOTS")


@pytest.fixture
async def running(db_url: str, seed: Seed, start_app: StartApp) -> AsyncIterator[tuple[str, Sanic]]:
    settings = make_settings(db_url, customer_token_secret=CUSTOMER_SECRET)
    app = create_app(settings, name=f"form_b_{uuid.uuid4().hex[:8]}")
    yield (await start_app(app)).base_url, app


async def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def _console(browser: Browser, base_url: str) -> Page:
    page = await (await browser.new_context(viewport=WIDE)).new_page()
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", "fin")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page


async def _tickets(app: Sanic) -> int:
    async with app.ctx.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Ticket))).scalar_one())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_anonymous_customer_sends_a_request_with_the_keyboard_and_the_agent_sees_it(
    browser: Browser, running: tuple[str, Sanic]
) -> None:
    base_url, app = running
    console = await _console(browser, base_url)
    context = await browser.new_context(viewport=PHONE, locale="tr-TR")
    page = await context.new_page()
    await page.goto(f"{base_url}/form/")
    await expect(page.locator("h1")).to_have_text("Talep formu")
    await expect(page.locator("#f-topic option[value=deposit]")).to_have_text("Para yatırma")
    await expect(page.locator("#birth-field")).to_be_visible()
    await expect(page.locator("#form-signed-in")).to_be_hidden()
    await _shoot(page, "anonymous-tr-390")

    # sent empty: every problem next to its field, the first one focused
    await page.locator("#form-submit").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#form-alert")).to_have_text("Lütfen işaretli alanları düzeltin.")
    await expect(page.locator("#f-topic-error")).to_have_text("Lütfen bir konu seçin.")
    await expect(page.locator("#f-email-error")).to_contain_text("e-posta adresinizi")
    await expect(page.locator("#f-birth_date-error")).to_have_text("Doğum tarihinizi girin.")
    await expect(page.locator("#f-topic")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-topic")).to_be_focused()
    await _shoot(page, "anonymous-tr-390-errors")

    # the page's own date checks: a future and a too old transaction date
    await page.select_option("#f-topic", "deposit")
    await page.select_option("#f-transaction_type", "deposit")
    await expect(page.locator("#f-transaction_date-mark")).to_have_text("(zorunlu)")
    await page.fill("#f-transaction_date", days_ago(-2))
    await page.fill("#f-email", "ayse@ornek")
    await page.fill("#f-description", "Kartım 4111 1111 1111 1111 ile yatırdığım 500 TL hesabıma geçmedi.")
    await page.fill("#f-birth_date", "1990-05-04")
    await page.locator("#form-submit").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#f-transaction_date-error")).to_have_text("İşlem tarihi gelecekte olamaz.")
    await expect(page.locator("#f-email-error")).to_contain_text("e-posta adresine benzemiyor")
    await page.fill("#f-transaction_date", days_ago(400))
    await page.keyboard.press("Enter")  # the focus is on the first wrong field: Enter sends the form
    await expect(page.locator("#f-transaction_date-error")).to_have_text("İşlem tarihi en fazla 180 gün önce olabilir.")
    assert await _tickets(app) == 0

    await page.fill("#f-transaction_date", days_ago(1))
    await page.fill("#f-email", "ayse@ornek.com")
    await page.fill("#f-username", "ayse_k")
    # the keyboard: the files, then the button (the honeypot is never reached)
    await page.locator("#f-files").focus()
    await page.keyboard.press("Tab")
    await expect(page.locator("#form-submit")).to_be_focused()
    await _shoot(page, "anonymous-tr-390-filled")
    await page.keyboard.press("Enter")
    await expect(page.locator("#form-done")).to_be_visible()
    await expect(page.locator("#done-title")).to_have_text("Talebiniz alındı")
    number = (await page.locator("#done-text").text_content() or "").split(": ")[1].rstrip(".")
    assert number.startswith("T-")
    await expect(page.locator("#done-queue")).to_contain_text("Sıradaki yeriniz: 1")
    await expect(page.locator("#done-mail")).to_be_visible()
    await expect(page.locator("#done-panel")).to_be_hidden()
    await _shoot(page, "anonymous-tr-390-done")
    assert await _tickets(app) == 1

    # the agent's console: live in the queue, claimed, its summary read
    item = console.locator(f'#queue li[data-number="{number}"]')
    await expect(item).to_be_visible(timeout=10_000)
    await item.click()
    await expect(console.locator("#ticket-number")).to_have_text(number)
    await expect(console.locator("#card-username")).to_have_text("ayse_k")
    await expect(console.locator("#card-description")).to_contain_text("hesabıma geçmedi")
    assert "4111 1111 1111 1111" not in (await console.locator("#card-description").text_content() or "")
    await console.click("#claim-this")
    await expect(console.locator("#reply-form")).to_be_visible()
    await _shoot(console, "console-form-request-1400")

    # English, then a new request starts empty with a new key
    await page.click("#form-lang")
    await expect(page.locator("#done-title")).to_have_text("We have your request")
    await page.click("#done-new")
    await expect(page.locator("#request-form")).to_be_visible()
    await expect(page.locator("#f-description")).to_have_value("")
    await expect(page.locator("#f-topic option[value=deposit]")).to_have_text("Deposit")
    await _shoot(page, "anonymous-en-390")
    await page.set_viewport_size(WIDE)
    await page.click("#form-lang")
    await expect(page.locator("h1")).to_have_text("Talep formu")
    await page.locator("#form-submit").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#f-description-error")).to_have_text("Lütfen sorununuzu birkaç cümleyle anlatın.")
    await _shoot(page, "anonymous-tr-1400-errors")
    await context.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_signed_in_customer_skips_the_birth_date_and_finds_the_request_in_the_panel(
    browser: Browser, running: tuple[str, Sanic]
) -> None:
    base_url, app = running
    context = await browser.new_context(viewport=WIDE, locale="en-GB")
    page = await context.new_page()
    token = mint_customer_token("mehmet_y", CUSTOMER_SECRET)
    await page.goto(f"{base_url}/form/#token={token}")
    await expect(page.locator("#form-signed-in")).to_have_text(
        "Signed in as mehmet_y: your username and age come from your account."
    )
    assert token not in page.url
    await expect(page.locator("#birth-field")).to_be_hidden()
    await expect(page.locator("#username-field")).to_be_hidden()
    await expect(page.locator("#f-email-mark")).to_have_text("(optional)")
    paths = sorted(c["path"] for c in await context.cookies())
    assert paths == ["/form", "/panel"]
    await _shoot(page, "signed-in-en-1400")

    await page.select_option("#f-topic", "withdrawal")
    await page.select_option("#f-transaction_type", "withdrawal")
    await page.fill("#f-transaction_date", desk_today().isoformat())
    await page.fill("#f-description", "My withdrawal of 200 EUR has been pending since this morning.")
    await page.set_input_files(
        "#f-files",
        [
            {"name": "receipt.png", "mimeType": "image/png", "buffer": png()},
            {"name": "screenshot.png", "mimeType": "image/png", "buffer": zip_bytes()},  # not what it says
        ],
    )
    await expect(page.locator("#f-files-list li")).to_have_count(2)
    await page.locator("#f-description").focus()
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#done-title")).to_have_text("We have your request")
    await expect(page.locator("#done-documents .good")).to_have_text("receipt.png was added.")
    await expect(page.locator("#done-documents .bad")).to_contain_text("screenshot.png was not accepted")
    await expect(page.locator("#done-mail")).to_be_hidden()
    await _shoot(page, "signed-in-en-1400-done")
    await page.set_viewport_size(PHONE)
    await _shoot(page, "signed-in-en-390-done")
    await page.click("#form-lang")
    await expect(page.locator("#done-title")).to_have_text("Talebiniz alındı")
    await expect(page.locator("#done-documents .bad")).to_contain_text("screenshot.png alınmadı")
    await _shoot(page, "signed-in-tr-390-done")

    number = (await page.locator("#done-text").text_content() or "").split(": ")[1].rstrip(".")
    await page.set_viewport_size(WIDE)
    await _shoot(page, "signed-in-tr-1400-done")
    await page.click("#done-panel")
    await expect(page.locator("#list-view")).to_be_visible()
    await expect(page.locator(f'#open-list [data-number="{number}"]')).to_be_visible()
    await expect(page.locator("#panel-form-link")).to_have_attribute("href", "/form/?lang=tr")
    await _shoot(page, "panel-tr-1400-with-form-request")
    async with app.ctx.sessionmaker() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert (ticket.account_username, ticket.channel, ticket.topic_id) == ("mehmet_y", "form", "withdrawal")
    await context.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_under_18_gets_the_polite_refusal_and_nothing_is_made(
    browser: Browser, running: tuple[str, Sanic]
) -> None:
    base_url, app = running
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{base_url}/form/?lang=en")
    await expect(page.locator("h1")).to_have_text("Request form")
    await page.select_option("#f-topic", "promotion")
    await page.fill("#f-email", "kid@example.com")
    await page.fill("#f-description", "My bonus did not arrive.")
    await page.fill("#f-birth_date", desk_today().replace(year=desk_today().year - 15).isoformat())
    await page.locator("#form-submit").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#form-refused")).to_be_visible()
    await expect(page.locator("#form-refused")).to_contain_text("only for people over 18")
    await expect(page.locator("#request-form")).to_be_hidden()
    await _shoot(page, "under-18-en-390")
    assert await _tickets(app) == 0
    # the chat links to the form in the reader's language
    await page.goto(f"{base_url}/chat/?lang=en")
    await expect(page.locator("#chat-form-link")).to_have_text("Request form")
    await expect(page.locator("#chat-form-link")).to_have_attribute("href", "/form/?lang=en")
    await context.close()
