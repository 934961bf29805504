"""The customer panel in headless Chromium (Debian's package, driven by
Playwright): a signed-in customer opens the panel from the platform's link,
sees two past requests (handed off with a verified username, answered by
an agent), opens one, adds a message, and the agent's console, open in a
second browser context, shows it arrive live. Screenshots of each view,
in Turkish and English, phone-sized and wide, go to
``HANDOFF_PANEL_SCREENSHOTS`` when it names a directory."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sanic import Sanic
from sqlalchemy import update

from handoff.app import create_app
from handoff.models import Ticket, utcnow
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_VERIFIED
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers, login, make_settings

SECRET = "panel-browser-customer-token-secret-0123456789"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
SHOTS = os.environ.get("HANDOFF_PANEL_SCREENSHOTS")
XSS = '<img src=x onerror="window.__pwned = 1">'


@pytest.fixture
async def running(db_url: str, seed: Seed, start_app: StartApp) -> AsyncIterator[tuple[str, Sanic]]:
    app = create_app(make_settings(db_url, customer_token_secret=SECRET), name=f"panel_b_{uuid.uuid4().hex[:8]}")
    yield (await start_app(app)).base_url, app


@pytest.fixture
def base_url(running: tuple[str, Sanic]) -> str:
    return running[0]


async def _archived_request(client: httpx.AsyncClient, app: Sanic) -> str:
    """An old request of ayse_k, resolved and archived (as retention leaves it)."""
    body = summary("account", username="ayse_k", username_source=USERNAME_VERIFIED)
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("panel-b-old"))
    number = str(res.json()["ticket_number"])
    acc = await login(client, "acc")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=acc)).status_code == 200
    assert (await client.post(f"/api/v1/tickets/{number}/resolve", json={}, headers=acc)).status_code == 200
    async with app.ctx.sessionmaker() as session, session.begin():
        await session.execute(update(Ticket).where(Ticket.id == int(number[2:])).values(archived_at=utcnow()))
    return number


async def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def _past_requests(client: httpx.AsyncClient) -> list[str]:
    """Two requests of ayse_k, handed off with her verified username, each
    answered by an agent; the second one resolved."""
    fin = await login(client, "fin")
    numbers = []
    for i, text in enumerate(["Param hâlâ yansımadı, kontrol eder misiniz?", "Çekim talebim bekliyor " + XSS]):
        # two problems (deposit, withdrawal): one request each
        topic = {"id": ("deposit", "withdrawal")[i], "label": "-"}
        body = summary("finance", username="ayse_k", username_source=USERNAME_VERIFIED, description=text, topic=topic)
        res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(f"panel-b-{i}"))
        number = res.json()["ticket_number"]
        assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
        reply = {"text": f"Merhaba Ayşe, talebinizi inceledim ({i + 1})."}
        assert (await client.post(f"/api/v1/tickets/{number}/reply", json=reply, headers=fin)).status_code == 201
        numbers.append(number)
    resolved = await client.post(f"/api/v1/tickets/{numbers[1]}/resolve", json={"note": "ok"}, headers=fin)
    assert resolved.status_code == 200
    return numbers


async def _console(browser: Browser, base_url: str, number: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", "fin")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    await page.locator(f'#mine li[data-number="{number}"]').click()
    await expect(page.locator("#ticket-number")).to_have_text(number)
    return page


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_customer_writes_from_the_panel_and_the_agent_sees_it_live(
    browser: Browser, running: tuple[str, Sanic]
) -> None:
    base_url, app = running
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        archived_number = await _archived_request(client, app)
        open_number, closed_number = await _past_requests(client)
    console = await _console(browser, base_url, open_number)

    context = await browser.new_context(viewport=PHONE, locale="tr-TR")
    page = await context.new_page()
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(r.url))
    token = mint_customer_token("ayse_k", SECRET)
    await page.goto(f"{base_url}/panel/#token={token}")
    await expect(page.locator("#list-view")).to_be_visible()
    assert "#token" not in page.url and token not in page.url  # the fragment is cleared
    assert all(token not in url for url in requests_seen)  # and never travelled in an address
    cookies = await context.cookies()
    assert sorted((c["name"], c["path"], c["httpOnly"], c["sameSite"]) for c in cookies) == [
        ("panel_session", "/form", True, "Strict"),  # the request form knows the customer by it too
        ("panel_session", "/panel", True, "Strict"),
    ]
    assert await page.evaluate("document.cookie") == ""  # HttpOnly: the page's script cannot read it
    await expect(page.locator("h1")).to_have_text("Taleplerim")
    await expect(page.locator("#open-list .request")).to_have_count(1)
    await expect(page.locator("#closed-list .request")).to_have_count(1)
    await expect(page.locator(f'#open-list [data-number="{open_number}"]')).to_contain_text("Temsilcide")
    await expect(page.locator(f'#closed-list [data-number="{closed_number}"]')).to_contain_text("Çözüldü")
    await _shoot(page, "list-tr-390")

    # the keyboard opens a request
    await page.locator(f'#open-list [data-number="{open_number}"]').focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#detail-number")).to_have_text(open_number)
    await expect(page.locator("#timeline li.current")).to_contain_text("Yanıtınız bekleniyor")
    await expect(page.locator("#transcript li.agent")).to_contain_text("talebinizi inceledim (1)")
    await expect(page.locator("#transcript li.agent .sender")).to_have_text("Fatma Finans")
    await expect(page.locator("#documents-empty")).to_be_visible()
    await _shoot(page, "detail-tr-390")

    await page.fill("#message-text", "Teşekkürler, dekontu da ekledim. " + XSS)
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#transcript li.customer").last).to_contain_text("dekontu da ekledim")
    await expect(page.locator("#transcript li.customer").last).to_contain_text("panelden")
    await expect(page.locator("#message-text")).to_have_value("")

    # the agent's console shows it without a reload
    await expect(console.locator("#transcript li.customer").last).to_contain_text("dekontu da ekledim", timeout=10_000)
    await expect(console.locator("#transcript li.customer").last.locator(".via")).to_have_text("via the customer panel")
    assert await console.locator("#transcript img").count() == 0

    # English, and the closed request
    await page.click("#panel-lang")
    await expect(page.locator("h1")).to_have_text("My requests")
    await expect(page.locator("#timeline li").first).to_contain_text("Request received")
    await _shoot(page, "detail-en-390")
    await page.click("#detail-back")
    await expect(page.locator("#list-view")).to_be_visible()
    await page.locator(f'#closed-list [data-number="{closed_number}"]').click()
    await expect(page.locator("#detail-status")).to_have_text("Resolved")
    await expect(page.locator("#message-form")).to_be_hidden()
    await expect(page.locator("#detail-readonly")).to_be_visible()
    assert await page.locator("#transcript img, #transcript script").count() == 0
    assert await page.evaluate("window.__pwned") is None

    # another customer's number reads like a missing one
    await page.evaluate("location.hash = 'request=T-999999'")
    await expect(page.locator("#panel-error")).to_be_visible()
    await expect(page.locator("#panel-error-text")).to_have_text("We found no request of yours with this number.")
    await _shoot(page, "error-en-390")

    # wide screens, and the archive section
    await page.set_viewport_size(WIDE)
    await page.click("#panel-error-back")
    await expect(page.locator("#list-view")).to_be_visible()
    await page.locator("#archive summary").click()
    await expect(page.locator("#archive-count")).to_have_text("(1)")
    await _shoot(page, "list-en-1400")
    await page.locator(f'#archived-list [data-number="{archived_number}"]').click()
    await expect(page.locator("#detail-readonly")).to_have_text("This request is archived: read-only.")
    await expect(page.locator("#timeline li").last).to_contain_text("Archived")
    await expect(page.locator("#message-form")).to_be_hidden()
    await _shoot(page, "archived-en-1400")
    await page.set_viewport_size(PHONE)
    await _shoot(page, "archived-en-390")
    await page.set_viewport_size(WIDE)
    await page.click("#detail-back")
    await page.click("#panel-lang")
    await page.locator(f'#open-list [data-number="{open_number}"]').click()
    await expect(page.locator("#detail-number")).to_have_text(open_number)
    await _shoot(page, "detail-tr-1400")

    # signing out ends the session
    await page.click("#panel-signout")
    await expect(page.locator("#panel-error-text")).to_contain_text("Çıkış yaptınız")
    await page.goto(f"{base_url}/panel/")
    await expect(page.locator("#panel-error-text")).to_contain_text("Oturumunuz yok")
    await _shoot(page, "error-tr-1400")
    await context.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_bad_link_says_so_in_the_customers_language(browser: Browser, base_url: str) -> None:
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    forged = mint_customer_token("ayse_k", "not-the-platform-secret-0123456789")
    await page.goto(f"{base_url}/panel/#token={forged}")
    await expect(page.locator("#panel-error-text")).to_have_text(
        "The sign-in link is not valid or has expired. Please open the panel again from your account on the platform."
    )
    assert "#token" not in page.url
    assert await context.cookies() == []
    await _shoot(page, "error-en-390-bad-link")
    await context.close()
