"""A request's contacts in the console, in headless Chromium: an agent sees
the chat that joined the request and each line's channel; a supervisor
splits the joined chat off from the keyboard, on a phone-sized screen, in
Turkish and English."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from support_rules.identity import USERNAME_VERIFIED
from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers

SHOTS = os.environ.get("HANDOFF_CONTACTS_SCREENSHOTS")


async def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def _log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


async def _hand_off(client: httpx.AsyncClient, conversation_id: str, text: str) -> dict:
    line = {"sender": "customer", "text": text, "timestamp": "2026-12-03T10:00:00+00:00"}
    body = summary(
        "finance",
        conversation_id=conversation_id,
        username="ayse_k",
        username_source=USERNAME_VERIFIED,
        transcript=[line],
    )
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(conversation_id))
    assert res.status_code in (200, 201), res.text
    return dict(res.json())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_supervisor_splits_a_joined_chat_off_in_the_console(
    browser: Browser, server, client: httpx.AsyncClient
) -> None:
    first = await _hand_off(client, "tab-1", "Yatırdığım para görünmüyor")
    joined = await _hand_off(client, "tab-2", "Aslında bu başka bir yatırım, dünkü değil")
    assert joined["joined"] is True and joined["ticket_number"] == first["ticket_number"]
    number = first["ticket_number"]

    agent = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
    await _log_in(agent, server.base_url, "fin")
    await agent.locator(f'#queue li[data-number="{number}"]').click()
    contacts = agent.locator("#card-contacts li")
    await expect(contacts).to_have_count(2)
    await expect(contacts.nth(1).locator(".badge.channel")).to_have_text("chat")
    await expect(contacts.locator("button")).to_have_count(0)  # agents do not split
    await expect(agent.locator("#transcript li.customer .via").last).to_have_text("in the chat")

    page = await (await browser.new_context(viewport={"width": 390, "height": 844}, locale="tr-TR")).new_page()
    await _log_in(page, server.base_url, "boss")
    await page.locator(f'#queue li[data-number="{number}"]').focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#ticket-number")).to_have_text(number)
    await page.click("#lang-toggle")  # the console's own toggle: Turkish
    split = page.locator("#card-contacts li").nth(1).locator("button")
    await expect(split).to_have_text("Ayır")
    await _shot(page, "console-contacts-tr-390")
    await split.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#ticket-alert")).to_contain_text("Ayrı bir talep olarak ayrıldı:")
    new_number = (await page.locator("#ticket-alert").text_content() or "").rsplit(" ", 1)[1]
    assert new_number.startswith("T-") and new_number != number
    await expect(page.locator("#card-contacts li").nth(1).locator(".badge").last).to_have_text(f"ayrıldı: {new_number}")
    await expect(page.locator(f'#queue li[data-number="{new_number}"]')).to_be_visible()
    # the agent's console hears of it without a reload
    await expect(agent.locator("#card-contacts li").nth(1)).to_contain_text(f"split off into {new_number}")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _shot(page, "console-contacts-split-tr-390")
    await _shot(agent, "console-contacts-split-en-1400")
