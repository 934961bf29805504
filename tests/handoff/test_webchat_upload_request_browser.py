"""The web chat's upload prompt in headless Chromium, against the socket.io
server of test_webchat_browser.py: a line whose metadata carries
``request_documents: true`` (the bot on a verification topic, an agent
asking) opens the prompt with that line's text, reachable from the keyboard,
in Turkish and English; other lines open nothing. The upload itself, and
what follows it, is in test_verification_panel_browser.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from support_rules.verification import REQUEST_DOCUMENTS_KEY, load_verification
from tests.handoff import test_webchat_browser as webchat
from tests.handoff.test_webchat_browser import FakeRasa, customer_token

# the fake Rasa and the page served against it, as test_webchat_browser.py has them
rasa = webchat.rasa
chat_url = webchat.chat_url

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
ROOT = Path(__file__).resolve().parents[2]
TEXTS = load_verification(ROOT / "data" / "verification.yml")
# utter_verification_documents as the bot sends it: one message per paragraph, each with the flag
ASKED_EN = [
    f"To verify your identity, please upload these documents in this chat: {TEXTS.documents_list('en')}.",
    "Photos showing all four corners without glare are approved faster.",
]


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("WEBCHAT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def _open(page: Page, url: str, rasa: FakeRasa) -> str:
    await page.goto(url)
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await page.fill("#chat-input", "I need to verify my account")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: I need to verify my account")
    return str(await page.evaluate("sessionStorage.getItem('webchat.session_id')"))


async def test_a_line_asking_for_documents_opens_the_upload_prompt(
    browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    context = await browser.new_context(viewport=WIDE, locale="en-GB")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    session_id = await _open(page, f"{chat_url}?lang=en#token={customer_token()}", rasa)
    prompt = page.locator("#chat-upload-request")
    await expect(prompt).to_be_hidden()

    # lines without the flag, or with it false, open nothing
    await rasa.push(session_id, {"text": "An agent will be with you shortly.", "metadata": {"kind": "notice"}})
    await rasa.push(session_id, {"text": "Anything else?", "metadata": {REQUEST_DOCUMENTS_KEY: False}})
    await expect(page.locator(".msg .text").last).to_have_text("Anything else?")
    await expect(prompt).to_be_hidden()
    await expect(page.locator("#chat-attach")).not_to_have_class("wanted")

    # the bot's request, sent as two lines: one prompt with both
    for part in ASKED_EN:
        await rasa.push(session_id, {"text": part, "metadata": {REQUEST_DOCUMENTS_KEY: True}})
    await expect(prompt).to_be_visible()
    await expect(page.locator("#chat-upload-title")).to_have_text("We need documents from you")
    await expect(page.locator("#chat-upload-text")).to_have_text("\n".join(ASKED_EN))
    await expect(page.locator(".msg.asks-documents")).to_have_count(2)
    await expect(page.locator("#chat-upload-choose")).to_have_text("Choose a file to upload")
    await expect(page.locator("#chat-attach")).to_have_class("wanted")
    assert await _focused(page) == "chat-input"  # nobody's typing is interrupted
    await page.screenshot(path=str(shots / "upload-request-en-1400x900.png"))

    # from the message box, the keyboard reaches the prompt's buttons
    await page.focus("#chat-input")
    await page.keyboard.press("Shift+Tab")  # the attach button
    assert await _focused(page) == "chat-attach"
    await page.keyboard.press("Shift+Tab")
    assert await _focused(page) == "chat-upload-later"
    await page.keyboard.press("Shift+Tab")
    assert await _focused(page) == "chat-upload-choose"
    async with page.expect_file_chooser():
        await page.keyboard.press("Enter")  # the picker opens from the prompt

    # it stays across a reload, follows the language, and closes on "Later"
    await page.reload()
    await expect(prompt).to_be_visible()
    await expect(page.locator("#chat-upload-text")).to_have_text("\n".join(ASKED_EN))
    await page.click("#chat-lang")
    await expect(page.locator("#chat-upload-title")).to_have_text("Sizden belge isteniyor")
    await expect(page.locator("#chat-upload-choose")).to_have_text("Dosya seç ve yükle")
    await expect(page.locator("#chat-upload-later")).to_have_text("Daha sonra")
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.screenshot(path=str(shots / "upload-request-tr-390x844.png"))
    await page.focus("#chat-upload-later")
    await page.keyboard.press("Enter")
    await expect(prompt).to_be_hidden()
    assert await _focused(page) == "chat-input"
    await expect(page.locator("#chat-attach")).not_to_have_class("wanted")
    await page.reload()
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(prompt).to_be_hidden()

    # asked again: open again; a new conversation closes it
    await rasa.push(session_id, {"text": "Lütfen kimliğinizi yükleyin.", "metadata": {REQUEST_DOCUMENTS_KEY: True}})
    await expect(page.locator("#chat-upload-text")).to_have_text("Lütfen kimliğinizi yükleyin.")
    await page.click("#chat-lang")
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(shots / "upload-request-en-390x844.png"))
    await page.click("#chat-new")
    await expect(prompt).to_be_hidden()
    assert errors == []
    await context.close()


async def test_the_prompt_on_a_wide_screen_in_turkish(
    browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=WIDE, locale="tr-TR")
    page = await context.new_page()
    session_id = await _open(page, f"{chat_url}?lang=tr#token={customer_token()}", rasa)
    text = f"Kimliğinizi doğrulayabilmemiz için şu belgeleri bu sohbette yükleyin: {TEXTS.documents_list('tr')}."
    await rasa.push(session_id, {"text": text, "metadata": {"kind": "notice", REQUEST_DOCUMENTS_KEY: True}})
    await expect(page.locator("#chat-upload-text")).to_have_text(text)
    await expect(page.locator(".msg.notice.asks-documents .text")).to_have_text(text)
    await page.screenshot(path=str(_shots(tmp_path) / "upload-request-tr-1400x900.png"))
    await context.close()


def test_the_page_reads_the_flag_the_channels_send() -> None:
    """The flag's name is written once in support_rules; the page's copy must match it."""
    source = (ROOT / "handoff" / "webchat" / "chat.js").read_text(encoding="utf-8")
    [written] = re.findall(r'const REQUEST_DOCUMENTS = "([^"]+)";', source)
    assert written == REQUEST_DOCUMENTS_KEY
