"""The agent console in headless Chromium (Debian's package, driven by
Playwright; Playwright never downloads a browser here)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.handoff.customer_lines import customer_writes
from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers, login, status_headers

XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


async def _log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#main-view")).to_be_visible()
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_agent_handles_a_ticket_live(browser: Browser, server, client: httpx.AsyncClient) -> None:
    page = await browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await _log_in(page, server.base_url, "fin")
    await page.evaluate("window.__sameDocument = true")
    await expect(page.locator("#queue-empty")).to_be_visible()

    # a new ticket arrives while the page is open
    body = summary("finance", conversation_id="conv-browser", description="Param gelmedi " + XSS, username="zeynep_34")
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("k-browser"))
    number = res.json()["ticket_number"]
    item = page.locator(f'#queue li[data-number="{number}"]')
    await expect(item).to_be_visible(timeout=10_000)
    assert await page.evaluate("window.__sameDocument") is True  # no reload happened

    await item.click()
    await expect(page.locator("#ticket-number")).to_have_text(number)
    await expect(page.locator("#card-username")).to_have_text("zeynep_34")
    await expect(page.locator("#card-description")).to_have_text("Param gelmedi " + XSS)
    await page.click("#claim-this")
    await expect(page.locator("#reply-form")).to_be_visible()

    # a customer message with markup shows up live, as text
    assert (await customer_writes(server.app, number, "Bakın: " + XSS) or {}).get("type") == "message.new"
    await expect(page.locator("#transcript li.customer").last).to_contain_text("Bakın: " + XSS)
    assert (
        await page.locator("#transcript script, #transcript img, #summary-card img, #summary-card script").count() == 0
    )

    await page.fill("#reply-text", "Merhaba Zeynep, hemen kontrol ediyorum.")
    await page.click("#reply-send")
    await expect(page.locator("#transcript li.agent").last).to_contain_text("hemen kontrol ediyorum")
    assert [m.text for m in server.channel.sent] == ["Merhaba Zeynep, hemen kontrol ediyorum."]

    await page.fill("#resolve-note", "credited manually")
    await page.click("#resolve")
    await expect(page.locator("#ticket-status")).to_have_text("resolved")

    await page.click("#lang-toggle")
    await expect(page.locator("h1")).to_have_text("Temsilci konsolu")
    await expect(page.locator("#ticket-status")).to_have_text("çözüldü")

    assert await page.evaluate("window.__pwned") is None
    assert dialogs == []
    status = (await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("conv-browser"))).json()
    assert status["status"] == "resolved"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_transfer_hand_back_and_taken_by_someone_else(
    browser: Browser, server, client: httpx.AsyncClient
) -> None:
    page = await browser.new_page()
    await _log_in(page, server.base_url, "fin")
    numbers = []
    for i in range(3):
        body = summary("finance", conversation_id=f"conv-{i}")
        numbers.append(
            (await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(f"k{i}"))).json()[
                "ticket_number"
            ]
        )
    for number in numbers:
        await expect(page.locator(f'#queue li[data-number="{number}"]')).to_be_visible(timeout=10_000)

    # claim next takes the oldest; transfer sends it to another department
    await page.click("#claim-next")
    await expect(page.locator("#ticket-number")).to_have_text(numbers[0])
    await page.select_option("#transfer-dept", "account")
    await page.click("#transfer")
    await expect(page.locator("#ticket-view")).to_be_hidden()
    boss = await login(client, "boss")
    moved = (await client.get(f"/api/v1/tickets/{numbers[0]}", headers=boss)).json()
    assert (moved["department"], moved["status"]) == ("account", "queued")

    # hand back to the bot
    await page.click(f'#queue li[data-number="{numbers[1]}"]')
    await page.click("#claim-this")
    await expect(page.locator("#reply-form")).to_be_visible()
    await page.click("#hand-back")
    await expect(page.locator("#ticket-status")).to_have_text("handed back")
    assert server.channel.handed_back == ["conv-1"]

    # someone else takes the ticket being looked at
    await page.click(f'#queue li[data-number="{numbers[2]}"]')
    await expect(page.locator("#claim-this")).to_be_visible()
    assert (await client.post(f"/api/v1/tickets/{numbers[2]}/claim", headers=boss)).status_code == 200
    await expect(page.locator("#ticket-alert")).to_be_visible()
    await expect(page.locator(f'#queue li[data-number="{numbers[2]}"]')).to_have_count(0)
    await expect(page.locator("#claim-this")).to_be_hidden()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_summary_card_tells_a_verified_username_from_a_typed_one(
    browser: Browser, server, client: httpx.AsyncClient
) -> None:
    page = await browser.new_page()
    await _log_in(page, server.base_url, "fin")
    sent = {
        "verified": summary("finance", conversation_id="conv-v", username="ayse_k", username_source="verified_token"),
        "typed": summary("finance", conversation_id="conv-t", username="ayse_k", username_source="typed"),
        "older": summary("finance", conversation_id="conv-o", username="ayse_k"),  # before the field: typed
    }
    numbers = {}
    for key, body in sent.items():
        res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(f"k-{key}"))
        assert res.status_code == 201, res.text
        numbers[key] = res.json()["ticket_number"]
    badge = page.locator("#card-username-source")
    for key, english, turkish in (
        ("verified", "verified", "doğrulandı"),
        ("typed", "typed by the customer", "müşterinin yazdığı"),
        ("older", "typed by the customer", "müşterinin yazdığı"),
    ):
        await page.click(f'#queue li[data-number="{numbers[key]}"]')
        await expect(page.locator("#ticket-number")).to_have_text(numbers[key])
        await expect(page.locator("#card-username")).to_have_text("ayse_k")
        await expect(badge).to_be_visible()
        await expect(badge).to_have_text(english)
        await page.click("#lang-toggle")
        await expect(badge).to_have_text(turkish)
        await page.click("#lang-toggle")

    nameless = summary("finance", conversation_id="conv-n", username=None, username_source=None)
    res = await client.post("/api/v1/handoffs", content=json.dumps(nameless), headers=bot_headers("k-n"))
    await page.click(f'#queue li[data-number="{res.json()["ticket_number"]}"]')
    await expect(page.locator("#card-username")).to_have_text("—")
    await expect(badge).to_be_hidden()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_log_out_in_one_console_closes_the_other(browser: Browser, server, client: httpx.AsyncClient) -> None:
    """Two consoles of one agent (two browsers): logging out in one ends the
    other's live stream and shows it the log-in form; the log-out button's
    POST, from the console's own page, passes the cross-origin check."""
    first, second = await browser.new_context(), await browser.new_context()
    try:
        page_a, page_b = await first.new_page(), await second.new_page()
        await _log_in(page_a, server.base_url, "fin")
        await _log_in(page_b, server.base_url, "fin")
        await page_a.click("#logout")
        await expect(page_a.locator("#login-view")).to_be_visible()
        await expect(page_b.locator("#login-view")).to_be_visible(timeout=10_000)
        await expect(page_b.locator("#main-view")).to_be_hidden()
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_log_in_errors_are_shown_in_the_consoles_language(browser: Browser, server) -> None:
    page = await browser.new_page()
    await page.goto(f"{server.base_url}/console/")
    await page.click("#lang-toggle")  # English -> Turkish
    for _ in range(3):  # the test server's free failures
        await page.fill("#login-username", "acc")
        await page.fill("#login-password", "wrong-password")
        await page.click("#login-submit")
        await expect(page.locator("#login-error")).to_have_text("Giriş başarısız: kullanıcı adı veya şifre yanlış")
        await page.evaluate("document.getElementById('login-error').textContent = ''")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_have_text(
        re.compile(r"^Giriş başarısız: çok fazla deneme, \d+ sn sonra tekrar deneyin$")
    )
