"""The web chat's pre-chat form in headless Chromium, against the socket.io
server of test_webchat_browser.py (Rasa's protocol with our channel's
changes): an anonymous visitor gives a name, a topic and optionally a
username or e-mail before the first message, which carries them as
``prechat`` metadata; a signed-in customer sees no form. The bot's answer to
the form (the greeting by name) runs against the real Rasa in tests/e2e."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from support_rules.prechat import PRECHAT_LIMITS
from tests.handoff import test_webchat_browser as webchat
from tests.handoff.test_webchat_browser import FakeRasa, customer_token

# the fake Rasa and the page served against it, as test_webchat_browser.py has them
rasa = webchat.rasa
chat_url = webchat.chat_url

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


def _shots(tmp_path: Path) -> Path:
    """Where screenshots go: WEBCHAT_SCREENSHOT_DIR when set (to look at them), else the test's folder."""
    folder = Path(os.environ.get("WEBCHAT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement && document.activeElement.id"))


async def _fits(page: Page) -> None:
    sizes = await page.evaluate(
        "({ scroll: document.documentElement.scrollWidth, width: innerWidth,"
        " start: document.getElementById('prechat-start').getBoundingClientRect().toJSON() })"
    )
    assert sizes["scroll"] <= sizes["width"]  # nothing wider than the screen
    assert sizes["start"]["left"] >= 0 and sizes["start"]["right"] <= sizes["width"]


async def test_an_anonymous_visitor_fills_the_form_before_the_first_message(
    browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{chat_url}?lang=tr")

    form = page.locator("#prechat")
    await expect(form).to_be_visible()
    await expect(page.locator("#chat-log")).to_be_hidden()
    await expect(page.locator("#chat-input")).to_be_hidden()
    await expect(page.locator("#prechat-title")).to_have_text("Sohbete başlamadan önce")
    await expect(page.locator('label[for="prechat-name"]')).to_contain_text("Adınız")
    # the catalogue's topics in the page's language
    await expect(page.locator('#prechat-topic option[value="withdrawal"]')).to_have_text("Para çekme", timeout=10_000)
    await expect(page.locator("#prechat-topic option").first).to_have_text("Bir konu seçin")
    assert await _focused(page) == "prechat-name"  # the form starts at its first field
    assert await page.get_attribute("#prechat-name", "maxlength") == str(PRECHAT_LIMITS["name"])  # the server's
    await _fits(page)
    await page.screenshot(path=str(shots / "prechat-tr-390x844.png"))

    # keyboard: the fields in order, Enter sends; what is missing is said and announced
    for expected in ("prechat-topic", "prechat-contact", "prechat-start"):
        await page.keyboard.press("Tab")
        assert await _focused(page) == expected
    await page.focus("#prechat-name")
    await page.keyboard.press("Enter")
    alert = page.locator("#prechat-alert")
    await expect(alert).to_have_text("Lütfen işaretli alanları düzeltin.")
    assert await alert.get_attribute("role") == "alert"
    await expect(page.locator("#prechat-name-error")).to_have_text("Lütfen adınızı yazın.")
    await expect(page.locator("#prechat-topic-error")).to_have_text("Lütfen bir konu seçin.")
    await expect(page.locator("#prechat-name")).to_have_attribute("aria-invalid", "true")
    assert "prechat-name-error" in (await page.get_attribute("#prechat-name", "aria-describedby") or "")
    assert await _focused(page) == "prechat-name"  # focus goes to the first field to correct

    # markup as a name and a malformed e-mail address are refused with a clear message
    await page.fill("#prechat-name", '<img src=x onerror="window.__pwned = 1">')
    await page.select_option("#prechat-topic", "withdrawal")
    await page.fill("#prechat-contact", "ayse@ornek")
    await page.press("#prechat-contact", "Enter")
    await expect(page.locator("#prechat-name-error")).to_contain_text("yalnızca harflerle")
    await expect(page.locator("#prechat-topic-error")).to_be_hidden()
    await expect(page.locator("#prechat-contact-error")).to_contain_text("e-posta adresi geçerli görünmüyor")
    await page.screenshot(path=str(shots / "prechat-tr-390x844-errors.png"))
    assert rasa.messages == []  # nothing was sent

    # corrected, the form closes and the chat is ready; nothing travels before the first message
    await page.fill("#prechat-name", "  Ayşe   Yılmaz ")
    await page.fill("#prechat-contact", "ayse_k")
    await page.press("#prechat-contact", "Enter")
    await expect(form).to_be_hidden()
    await expect(page.locator("#chat-empty")).to_have_text("Teşekkürler, Ayşe Yılmaz. Sorunuzu aşağıya yazabilirsiniz.")
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    assert rasa.messages == []
    await page.fill("#chat-input", "merhaba")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: merhaba")
    first = rasa.messages[0]["customData"]
    assert first["prechat"] == {"name": "Ayşe Yılmaz", "topic": "withdrawal", "username": "ayse_k"}
    await page.fill("#chat-input", "ikinci")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: ikinci")
    assert "prechat" not in rasa.messages[1]["customData"]  # only the first message carries it

    # a reload goes on with the conversation, without the form
    await page.reload()
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(form).to_be_hidden()

    # a new conversation asks again, with the name given before filled in
    await page.click("#chat-new")
    await expect(form).to_be_visible()
    await expect(page.locator("#prechat-name")).to_have_value("Ayşe Yılmaz")
    assert await page.evaluate("window.__pwned") is None
    assert errors == []
    await context.close()


async def test_the_form_in_english_on_a_wide_screen_with_an_email_address(
    browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{chat_url}?lang=tr")
    await expect(page.locator('#prechat-topic option[value="login"]')).to_have_text("Giriş sorunu", timeout=10_000)
    await page.press("#prechat-name", "Enter")
    await expect(page.locator("#prechat-name-error")).to_have_text("Lütfen adınızı yazın.")
    # the language toggle changes labels, topic names and the errors shown
    await page.click("#chat-lang")
    await expect(page.locator("#prechat-title")).to_have_text("Before we start")
    await expect(page.locator('#prechat-topic option[value="login"]')).to_have_text("Login problem")
    await expect(page.locator("#prechat-name-error")).to_have_text("Please enter your name.")
    await expect(page.locator("#prechat-alert")).to_have_text("Please correct the marked fields.")
    await page.fill("#prechat-contact", "mark@@example.com")
    await page.press("#prechat-contact", "Enter")
    await expect(page.locator("#prechat-contact-error")).to_contain_text("doesn't look valid")
    await _fits(page)
    await page.screenshot(path=str(shots / "prechat-en-1400x900-errors.png"))

    await page.fill("#prechat-name", "Mark O'Neil")
    await page.select_option("#prechat-topic", "login")
    await page.fill("#prechat-contact", "mark@example.com")
    await expect(page.locator("#prechat-name-error")).to_be_hidden()  # corrected fields lose their error
    await page.screenshot(path=str(shots / "prechat-en-1400x900.png"))
    await page.click("#prechat-start")
    await expect(page.locator("#prechat")).to_be_hidden()
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await page.fill("#chat-input", "hello")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: hello")
    sent = rasa.messages[0]["customData"]
    assert sent["prechat"] == {"name": "Mark O'Neil", "topic": "login", "email": "mark@example.com"}
    assert sent["language"] == "en"
    await context.close()


async def test_phone_screenshots_in_english_and_turkish_desktop(
    browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    for lang, viewport, name in (("en", PHONE, "prechat-en-390x844.png"), ("tr", DESKTOP, "prechat-tr-1400x900.png")):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto(f"{chat_url}?lang={lang}")
        await expect(page.locator('#prechat-topic option[value="deposit"]')).to_have_count(1, timeout=10_000)
        await _fits(page)
        await page.screenshot(path=str(shots / name))
        await context.close()


async def test_a_signed_in_customer_sees_no_form(browser: Browser, rasa: FakeRasa, chat_url: str) -> None:
    page = await browser.new_page()
    await page.goto(f"{chat_url}?lang=en#token={customer_token()}")
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(page.locator("#prechat")).to_be_hidden()
    await expect(page.locator("#chat-input")).to_be_visible()
    await page.fill("#chat-input", "hello")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: hello")
    assert "prechat" not in rasa.messages[0]["customData"]
    await page.click("#chat-new")  # a new conversation of the same customer: still no form
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(page.locator("#prechat")).to_be_hidden()
    await page.close()


async def test_without_the_topics_the_chat_goes_on_without_the_form(
    browser: Browser, rasa: FakeRasa, chat_url: str
) -> None:
    page = await browser.new_page()
    await page.route("**/chat/prechat.json", lambda route: route.fulfill(status=503, body="{}"))
    await page.goto(f"{chat_url}?lang=en")
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await expect(page.locator("#prechat")).to_be_hidden()
    await page.fill("#chat-input", "hello")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: hello")
    await page.close()
