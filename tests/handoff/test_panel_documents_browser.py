"""A screenshot added in the customer panel reaches the agent live (headless
Chromium): a signed-in customer opens the panel, sees two past requests
with their agents' answers, attaches a PNG to the open one (from the
keyboard), sees it as a thumbnail, and the agent, with the console open in
a second browser context, sees it appear without reloading. A refused file
is explained in Turkish, then in English. Screenshots, phone-sized and
wide, go to ``HANDOFF_PANEL_SCREENSHOTS`` when it names a directory."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from handoff.app import create_app
from handoff.services.channel import RecordingChannel
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_VERIFIED
from tests.handoff import test_webchat_browser
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import pdf, png, svg_with_script
from tests.handoff.factories import distinct_topic, summary
from tests.handoff.helpers import bot_headers, make_settings, until
from tests.handoff.test_panel_browser import PHONE, SECRET, WIDE, _console, _past_requests, _shoot
from tests.handoff.test_webchat_browser import KEY, VENDOR, FakeRasa, _fill_prechat


@dataclass
class Desk:
    base_url: str
    channel: RecordingChannel


@pytest.fixture
async def desk(db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path) -> AsyncIterator[Desk]:
    channel = RecordingChannel()
    settings = make_settings(db_url, customer_token_secret=SECRET, document_dir=tmp_path / "documents")
    app = create_app(settings, channel=channel, name=f"panel_docs_b_{uuid.uuid4().hex[:8]}")
    yield Desk((await start_app(app)).base_url, channel)


async def _attach(page: Page, name: str, data: bytes, mime: str, *, keyboard: bool = False) -> None:
    async with page.expect_file_chooser() as chooser:
        if keyboard:
            await page.focus("#attach-button")
            await page.keyboard.press("Enter")
        else:
            await page.click("#attach-button")
    await (await chooser.value).set_files({"name": name, "mimeType": mime, "buffer": data})


async def _natural_width(image: Locator, width: int) -> bool:
    return bool(await image.evaluate("(img) => img.complete && img.naturalWidth") == width)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_screenshot_from_the_panel_appears_live_in_the_console(browser: Browser, desk: Desk) -> None:
    base_url = desk.base_url
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        open_number, closed_number = await _past_requests(client)
    console = await _console(browser, base_url, open_number)
    await expect(console.locator("#card-documents")).to_have_text("no documents")

    context = await browser.new_context(viewport=PHONE, locale="tr-TR")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{base_url}/panel/#token={mint_customer_token('ayse_k', SECRET)}")
    await expect(page.locator("#open-list .request")).to_have_count(1)
    await expect(page.locator("#closed-list .request")).to_have_count(1)

    # the closed one: its agent's answer, no attach button
    await page.locator(f'#closed-list [data-number="{closed_number}"]').click()
    await expect(page.locator("#transcript li.agent")).to_contain_text("talebinizi inceledim (2)")
    await expect(page.locator("#attach")).to_be_hidden()
    await page.click("#detail-back")

    # the open one: its agent's answer, and the attach button
    await page.locator(f'#open-list [data-number="{open_number}"]').click()
    await expect(page.locator("#transcript li.agent")).to_contain_text("talebinizi inceledim (1)")
    await expect(page.locator("#attach-button")).to_have_text("Dosya ekle")
    await expect(page.locator("#attach-hint")).to_have_text(
        "Ekran görüntüsü ya da belge: JPEG, PNG, WebP veya PDF, en fazla 10 MB."
    )
    await _shoot(page, "documents-before-tr-390")

    # a screenshot, from the keyboard
    await _attach(page, "ekran görüntüsü.png", png((640, 400)), "image/png", keyboard=True)
    await expect(page.locator("#attach-status")).to_have_text("ekran görüntüsü.png eklendi.")
    item = page.locator("#documents li.document").first
    await expect(page.locator("#documents li.document")).to_have_count(1)
    thumb = item.locator("img.thumb")
    await expect(thumb).to_have_attribute("alt", "ekran görüntüsü.png")
    await until(lambda: _natural_width(thumb, 640))  # through the panel's own download route
    assert (await thumb.get_attribute("src") or "").startswith(f"/panel/api/requests/{open_number}/documents/")
    await expect(item.locator(".document-meta")).to_contain_text("Siz")
    await expect(page.locator("#transcript li.customer").last).to_contain_text("ekran görüntüsü.png")
    await expect(page.locator("#transcript li.customer").last).to_contain_text("panelden")
    await expect(page.locator("#attach-button")).to_be_focused()
    await _shoot(page, "documents-tr-390")

    # the agent sees it without reloading: a transcript line, the image inline, the card's link
    await expect(console.locator("#transcript li.customer .document-line").last).to_have_text(
        "ekran görüntüsü.png", timeout=10_000
    )
    await expect(console.locator("#transcript li.customer").last.locator(".via")).to_have_text("via the customer panel")
    console_image = console.locator("#documents img")
    await expect(console_image).to_have_attribute("alt", "ekran görüntüsü.png")
    await until(lambda: _natural_width(console_image, 640))
    await expect(console.locator("#card-documents a")).to_have_text(["ekran görüntüsü.png"])
    # and the customer's chat is shown the same line
    assert [text for _conversation, text in desk.channel.echoed] == ["\N{PAPERCLIP} ekran görüntüsü.png"]

    # a PDF is a download link, not an image
    await _attach(page, "dekont.pdf", pdf(), "application/pdf")
    await expect(page.locator("#attach-status")).to_have_text("dekont.pdf eklendi.")
    pdf_link = page.locator("#documents li.document").nth(1).locator("a.document-link")
    await expect(pdf_link).to_have_attribute("download", "dekont.pdf")
    await expect(pdf_link).to_contain_text("İndir")
    async with page.expect_download() as downloading:
        await pdf_link.click()
    assert (await downloading.value).suggested_filename == "dekont.pdf"
    await expect(console.locator("#documents li")).to_have_count(2, timeout=10_000)

    # a file the service refuses: told in Turkish, then in English; it reaches nobody
    await _attach(page, "logo.svg", svg_with_script(), "image/svg+xml")
    await expect(page.locator("#attach-error")).to_have_text(
        "Bu dosya türü kabul edilmiyor. Lütfen JPEG, PNG, WebP resmi ya da PDF gönderin."
    )
    await page.click("#panel-lang")
    await expect(page.locator("#attach-error")).to_have_text(
        "This kind of file is not accepted. Please send a JPEG, PNG or WebP image or a PDF."
    )
    await expect(page.locator("#attach-button")).to_have_text("Attach a file")
    await expect(item.locator(".document-meta")).to_contain_text("You")
    # too large: stopped in the page before it is sent
    await _attach(page, "huge.png", png() + b"\0" * (10 * 1024 * 1024), "image/png")
    await expect(page.locator("#attach-error")).to_have_text("The file is too large. You can send up to 10 MB.")
    await expect(page.locator("#documents li.document")).to_have_count(2)
    await _shoot(page, "documents-en-390")
    await page.set_viewport_size(WIDE)
    await _shoot(page, "documents-en-1400")
    await page.click("#panel-lang")
    await _shoot(page, "documents-tr-1400")
    await _shoot(console, "console-panel-document")
    assert await console.locator("#documents li").count() == 2  # the refused ones reached nobody
    assert errors == []
    await context.close()


class RasaOutput(RecordingChannel):
    """Records, and shows an echoed line in the (fake) Rasa's socket as Rasa
    does with a bot event: its metadata on the message (bot/channels/formatting.py)."""

    def __init__(self, rasa: FakeRasa) -> None:
        super().__init__()
        self.rasa = rasa

    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        await super().echo_customer_line(conversation_id, text)
        await self.rasa.push(conversation_id, {"text": text, "metadata": {"sender": "customer"}})


rasa = test_webchat_browser.rasa  # the fake Rasa socket.io server, as test_webchat_browser.py has it


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_what_the_panel_adds_shows_in_the_open_chat(
    browser: Browser, rasa: FakeRasa, db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path
) -> None:
    if not VENDOR.is_file():
        pytest.fail(f"{VENDOR} is missing: run `make webchat-setup` (npm ci of handoff/webchat/package.json)")
    settings = make_settings(
        db_url,
        customer_token_secret=SECRET,
        rasa_public_url=f"http://127.0.0.1:{rasa.port}",
        conversation_secret_key=KEY,
        document_dir=tmp_path / "documents",
    )
    app = create_app(settings, channel=RasaOutput(rasa), name=f"panel_chat_{uuid.uuid4().hex[:8]}")
    base_url = (await start_app(app)).base_url

    chat = await (await browser.new_context(viewport=PHONE, locale="en-GB")).new_page()
    errors: list[str] = []
    chat.on("pageerror", lambda e: errors.append(str(e)))
    await chat.goto(f"{base_url}/chat/?lang=en")
    await _fill_prechat(chat)
    await expect(chat.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    conversation_id = await chat.evaluate("sessionStorage.getItem('webchat.session_id')")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        body = summary(
            "finance",
            conversation_id=conversation_id,
            username="ayse_k",
            username_source=USERNAME_VERIFIED,
            topic=distinct_topic("finance"),
        )
        res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("panel-chat"))
        number = res.json()["ticket_number"]

    panel = await (await browser.new_context(viewport=PHONE, locale="tr-TR")).new_page()
    await panel.goto(f"{base_url}/panel/#token={mint_customer_token('ayse_k', SECRET)}")
    await panel.locator(f'#open-list [data-number="{number}"]').click()
    await panel.fill("#message-text", "Dekontu panelden de ekliyorum")
    await panel.click("#message-send")
    await expect(panel.locator("#message-text")).to_have_value("")
    await _attach(panel, "dekont.png", png(), "image/png")
    await expect(panel.locator("#attach-status")).to_have_text("dekont.png eklendi.")

    # the chat shows both on the customer's side, marked as written in the panel
    mine = chat.locator(".msg.customer.from-panel")
    await expect(mine).to_have_count(2, timeout=10_000)
    await expect(mine.nth(0).locator(".text")).to_have_text("Dekontu panelden de ekliyorum")
    await expect(mine.nth(0).locator(".state")).to_have_text("From your customer panel")
    await expect(mine.nth(1)).to_have_class(re.compile(r"\bfile\b"))
    await expect(mine.nth(1).locator(".text")).to_have_text("dekont.png")
    await chat.click("#chat-lang")
    await expect(mine.nth(0).locator(".state")).to_have_text("Müşteri panelinden")
    await _shoot(chat, "webchat-from-panel-tr-390")
    assert await chat.locator(".msg.bot").filter(has_text="Dekontu panelden").count() == 0
    assert errors == []
