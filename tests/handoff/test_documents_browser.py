"""A customer attaches a screenshot in the web chat (headless Chromium) and
the agent sees it in the console: inline, through the authenticated URL,
live; a refused file is explained in the customer's language."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from handoff.app import create_app
from handoff.services.channel import RecordingChannel
from tests.handoff import test_webchat_browser
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import jpeg_with_gps, png, svg_with_script
from tests.handoff.factories import summary
from tests.handoff.helpers import PASSWORD, bot_headers, make_settings, until
from tests.handoff.test_webchat_browser import KEY, VENDOR, FakeRasa, _fill_prechat

SCREENSHOTS = Path(__file__).resolve().parents[2] / "results" / "screenshots"


rasa = test_webchat_browser.rasa  # the fake Rasa socket.io server, as test_webchat_browser.py has it


@pytest.fixture
async def base_url(db_url: str, seed: Seed, rasa: FakeRasa, tmp_path: Path, start_app: StartApp) -> str:
    if not VENDOR.is_file():
        pytest.fail(f"{VENDOR} is missing: run `make webchat-setup` (npm ci of handoff/webchat/package.json)")
    settings = make_settings(
        db_url,
        rasa_public_url=f"http://127.0.0.1:{rasa.port}",
        conversation_secret_key=KEY,  # the same key as the (fake) Rasa channel's
        document_dir=tmp_path / "documents",
    )
    app = create_app(settings, channel=RecordingChannel(), name=f"docs_{uuid.uuid4().hex[:8]}")
    return (await start_app(app)).base_url


async def _natural_width(image: Locator, width: int) -> bool:
    return bool(await image.evaluate("(img) => img.complete && img.naturalWidth") == width)


async def _attach(page: Page, name: str, data: bytes, mime: str, *, keyboard: bool = False) -> None:
    """The attach button, clicked or from the keyboard (focus it, press Enter)."""
    async with page.expect_file_chooser() as chooser:
        if keyboard:
            await page.focus("#chat-attach")
            await page.keyboard.press("Enter")
        else:
            await page.click("#chat-attach")
    await (await chooser.value).set_files({"name": name, "mimeType": mime, "buffer": data})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_screenshot_from_the_chat_appears_in_the_console(
    browser: Browser, rasa: FakeRasa, base_url: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    customer = await browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    customer.on("pageerror", lambda e: errors.append(str(e)))
    await customer.goto(f"{base_url}/chat/?lang=tr")
    await _fill_prechat(customer)
    await expect(customer.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(customer.locator("#chat-attach")).to_be_enabled()
    await expect(customer.locator("#chat-attach")).to_have_attribute("aria-label", "Dosya ekle")
    conversation_id = await customer.evaluate("sessionStorage.getItem('webchat.session_id')")

    # the bot hands the conversation off; an agent of finance claims it
    async with httpx.AsyncClient(base_url=base_url) as client:
        body = summary("finance", conversation_id=conversation_id)
        res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("k-docs"))
        number = res.json()["ticket_number"]
    agent = await browser.new_page(viewport={"width": 1280, "height": 900})
    await agent.goto(f"{base_url}/console/")
    await agent.fill("#login-username", "fin")
    await agent.fill("#login-password", PASSWORD)
    await agent.click("#login-submit")
    await expect(agent.locator("#live-status")).to_have_attribute("data-state", "live")
    await agent.locator(f'#queue li[data-number="{number}"]').click()
    await agent.click("#claim-this")
    await expect(agent.locator("#reply-form")).to_be_visible()
    await expect(agent.locator("#card-documents")).to_have_text("no documents")

    # the customer attaches a screenshot (with GPS in its EXIF) from the keyboard
    await _attach(customer, "ekran görüntüsü.jpg", jpeg_with_gps((640, 400)), "image/jpeg", keyboard=True)
    line = customer.locator(".msg.customer.file").last
    await expect(line.locator(".text")).to_have_text("ekran görüntüsü.jpg")
    await expect(line).to_have_attribute("data-state", "sent")

    # the agent sees it live: a transcript line, the image inline, the card's link
    await expect(agent.locator("#transcript li.customer .document-line").last).to_have_text("ekran görüntüsü.jpg")
    image = agent.locator("#documents img")
    await expect(image).to_have_attribute("alt", "ekran görüntüsü.jpg")
    # loaded through the authenticated URL (the session cookie), decoded by the browser
    await until(lambda: _natural_width(image, 640))
    await expect(agent.locator("#card-documents a")).to_have_text(["ekran görüntüsü.jpg"])

    # a file the service refuses: told in Turkish, then in English
    await _attach(customer, "logo.svg", svg_with_script(), "image/svg+xml")
    failed = customer.locator(".msg.customer.file").last
    await expect(failed).to_have_attribute("data-state", "failed")
    turkish = "Bu dosya türü kabul edilmiyor. Lütfen JPEG, PNG, WebP resmi ya da PDF gönderin."
    await expect(customer.locator("#chat-error")).to_have_text(turkish)
    await expect(failed.locator(".state")).to_have_text(turkish)
    await customer.click("#chat-lang")
    await expect(failed.locator(".state")).to_have_text(
        "This kind of file is not accepted. Please send a JPEG, PNG or WebP image or a PDF."
    )
    # a file over the limit is stopped in the page, before it is sent
    await _attach(customer, "huge.png", png() + b"\0" * (10 * 1024 * 1024), "image/png")
    await expect(customer.locator("#chat-error")).to_have_text("The file is too large. You can send up to 10 MB.")

    await customer.screenshot(path=str(SCREENSHOTS / "webchat-documents-390.png"))
    await agent.screenshot(path=str(SCREENSHOTS / "console-documents.png"), full_page=True)
    assert await agent.locator("#documents li").count() == 1  # the refused ones reached nobody
    assert errors == []
