"""Identity verification in the agent console (headless Chromium): an
account agent rejects with a reason, and the customer's status shows on
their later tickets; other departments see no decision buttons."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers

SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a folder: screenshots for a person to look at


async def _log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#main-view")).to_be_visible()
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


async def _handoff(client: httpx.AsyncClient, key: str, department: str, **overrides: object) -> str:
    body = summary(department, conversation_id=key, username="ayse_k", username_source="verified_token", **overrides)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(key))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_account_agent_rejects_with_a_reason_and_later_tickets_show_it(
    browser: Browser, server, client: httpx.AsyncClient
) -> None:
    topic = {"id": "verification", "label": "Kimlik doğrulama"}
    number = await _handoff(client, "conv-cv1", "account", topic=topic, transaction_type=None, transaction_date=None)
    page = await browser.new_page()
    await _log_in(page, server.base_url, "acc")
    await page.click(f'#queue li[data-number="{number}"]')
    await expect(page.locator("#card-kind")).to_have_text("identity verification")
    await expect(page.locator("#card-verification")).to_have_text("pending")
    await expect(page.locator("#verification-actions")).to_be_visible()
    await page.select_option("#verify-reason", "expired")
    await page.click("#verify-reject")
    await expect(page.locator("#card-verification")).to_have_text("rejected")
    detail = page.locator("#card-verification-detail")
    await expect(detail).to_contain_text("The identity document has expired")
    await expect(detail).to_contain_text("Ahmet Account")
    await page.click("#lang-toggle")
    await expect(page.locator("#card-verification")).to_have_text("reddedildi")
    await expect(detail).to_contain_text("Kimlik belgesinin süresi dolmuş")
    await page.click("#lang-toggle")
    assert server.channel.notices[-1][0] == "conv-cv1"
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/verification-rejected.png", full_page=True)
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await _log_in(phone, server.base_url, "acc")
    await phone.click(f'#queue li[data-number="{number}"]')
    await expect(phone.locator("#verification-actions")).to_be_visible()
    # the long reasons fit the phone's width: nothing scrolls sideways
    wide = await phone.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390, wide
    if SHOTS:
        await phone.screenshot(path=f"{SHOTS}/verification-actions-phone.png", full_page=True)

    # a later ticket of the same customer, in another department
    later = await _handoff(client, "conv-cv2", "finance")
    other = await browser.new_page(viewport={"width": 390, "height": 844})
    await _log_in(other, server.base_url, "fin")
    await other.click(f'#queue li[data-number="{later}"]')
    await expect(other.locator("#card-kind")).to_have_text("support")
    await expect(other.locator("#card-verification")).to_have_text("rejected")
    await expect(other.locator("#card-verification-detail")).to_contain_text("The identity document has expired")
    await expect(other.locator("#verification-actions")).to_be_hidden()  # a support request, and finance
    if SHOTS:
        await other.screenshot(path=f"{SHOTS}/verification-later-ticket-phone.png", full_page=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_agent_asks_for_documents_from_the_console(
    browser: Browser, server, client: httpx.AsyncClient
) -> None:
    number = await _handoff(client, "conv-cv3", "finance", language="en")
    page = await browser.new_page()
    await _log_in(page, server.base_url, "fin")
    await page.click(f'#queue li[data-number="{number}"]')
    await expect(page.locator("#request-documents")).to_be_disabled()  # not claimed yet
    await page.click("#claim-this")
    await expect(page.locator("#request-documents")).to_be_enabled()
    await page.click("#request-documents")
    await expect(page.locator("#card-kind")).to_have_text("identity verification")
    await expect(page.locator("#card-verification")).to_have_text("pending")
    # finance may ask for documents, not decide on them
    await expect(page.locator("#verification-actions")).to_be_hidden()
    [(conversation, text)] = server.channel.document_requests
    assert conversation == "conv-cv3" and text.startswith("We need to verify your identity.")
