"""The customer web chat page in headless Chromium (Debian's package, driven by
Playwright) against a real socket.io server that speaks the protocol of
Rasa 3.6's socketio channel (session_request / session_confirm,
user_uttered / bot_uttered with customData, rooms per session id) with the
changes of bot/channels/socketio_input.py (the server picks a new
conversation's id and issues its secret, support_rules.conversations; a
stored session is joined and written to only with its secret, else
``session_refused``; a socket speaks only for the session it joined; sender
metadata on bot messages). The socket.io client is the one
``make webchat-setup`` installed from npm."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from playwright.async_api import Browser, Page, expect
from sanic import Sanic

from handoff.app import create_app
from handoff.settings import Settings
from support_rules.conversations import conversation_secret, new_conversation_id, secret_matches
from tests.handoff.conftest import StartApp
from tests.handoff.helpers import AppServer, free_port, make_settings

XSS = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'
VENDOR = Settings().webchat_vendor_path
KEY = "fake-rasa-conversation-secret-key"
REFUSED = {"text": "This conversation could not be opened.", "metadata": {"kind": "notice"}}


class FakeRasa:
    """Rasa's socketio channel with session persistence, as a python-socketio server.

    Answers every customer message with ``bot: <text>`` (and quick replies when
    the text is ``buttons``); the test pushes agent messages and notices with
    :meth:`push`. Stopped and started again on the same port to act out a
    Rasa restart.
    """

    def __init__(self, start_app: StartApp, port: int) -> None:
        self.start_app = start_app
        self.port = port
        self.session_requests: list[Any] = []
        self.messages: list[dict[str, Any]] = []
        self.dropped: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.sio: socketio.AsyncServer | None = None
        self._server: AppServer | None = None
        self.dying = asyncio.Event()

    async def start(self) -> None:
        self.dying = asyncio.Event()
        sio = socketio.AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        app = Sanic(f"fake_rasa_{uuid.uuid4().hex[:8]}")
        sio.attach(app, "/socket.io")

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            self.session_requests.append(data)
            session_id = (data or {}).get("session_id")
            if session_id is None:
                session_id = new_conversation_id()
            elif not secret_matches(KEY, session_id, data.get("session_secret")):
                self.refused.append(data)
                await sio.emit("session_refused", REFUSED, room=sid)
                return
            await sio.enter_room(sid, session_id)
            await sio.save_session(sid, {"session_id": session_id})
            secret = conversation_secret(KEY, session_id)
            await sio.emit("session_confirm", {"session_id": session_id, "session_secret": secret}, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: dict[str, Any]) -> None:
            # like bot/channels/socketio_input.py: a socket speaks only for the
            # session it joined, and with its secret
            joined = (await sio.get_session(sid)).get("session_id")
            if data.get("session_id") != joined or not secret_matches(KEY, joined, data.get("session_secret")):
                self.dropped.append(data)
                return
            self.messages.append(data)
            if data["message"] == "hold" and not data["customData"].get("resend"):
                await self.dying.wait()  # handled when the server dies: no reply, no acknowledgement
                return
            reply: dict[str, Any] = {"text": "bot: " + data["message"]}
            if data["message"] == "buttons":
                reply = {
                    "text": "Did that help?",
                    "quick_replies": [
                        {"content_type": "text", "title": "Yes", "payload": "/affirm"},
                        {"content_type": "text", "title": "No", "payload": "/deny"},
                    ],
                }
            await sio.emit("bot_uttered", reply, room=data["session_id"])

        self._server = await self.start_app(app, self.port)
        self.sio = sio

    async def stop(self) -> None:
        """Stops listening and drops every connection, as a dying Rasa would."""
        assert self.sio is not None and self._server is not None
        srv, self._server = self._server, None
        self.dying.set()
        await srv.stop(drop_connections=True)
        await self.sio.shutdown()
        self.sio = None

    async def push(self, session_id: str, payload: dict[str, Any]) -> None:
        assert self.sio is not None
        await self.sio.emit("bot_uttered", payload, room=session_id)


def customer_token(secret: str = "platform-secret-for-tests-only", **claims: Any) -> str:
    """An HS256 JWT as the platform makes it (the page never reads it)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"username": "ayse_k", "age_verified": True, "exp": 4102444800, **claims}).encode())
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


@pytest.fixture
async def rasa(start_app: StartApp) -> AsyncIterator[FakeRasa]:
    fake = FakeRasa(start_app, free_port())
    await fake.start()
    try:
        yield fake
    finally:
        if fake.sio is not None:
            await fake.stop()


@pytest.fixture
async def chat_url(rasa: FakeRasa, tmp_path: Path, start_app: StartApp) -> str:
    """The handoff service serving /chat/ with Rasa at the fake server."""
    if not VENDOR.is_file():
        pytest.fail(f"{VENDOR} is missing: run `make webchat-setup` (npm ci of handoff/webchat/package.json)")
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", rasa_public_url=f"http://127.0.0.1:{rasa.port}"
    )
    app = create_app(settings, name=f"webchat_{uuid.uuid4().hex[:8]}")
    return f"{(await start_app(app)).base_url}/chat/"


async def _session_id(page: Page) -> str:
    return str(await page.evaluate("sessionStorage.getItem('webchat.session_id')"))


def _request(session_id: str | None, language: str) -> dict[str, Any]:
    """The page's session_request: a stored session with its secret, or none."""
    secret = conversation_secret(KEY, session_id) if session_id else None
    return {"session_id": session_id, "session_secret": secret, "language": language}


async def _fill_prechat(page: Page, name: str = "Ayşe", topic: str = "withdrawal", contact: str = "") -> None:
    """An anonymous visitor's pre-chat form, filled and sent with Enter."""
    await expect(page.locator("#prechat")).to_be_visible(timeout=10_000)
    await expect(page.locator(f'#prechat-topic option[value="{topic}"]')).to_have_count(1, timeout=10_000)
    await page.fill("#prechat-name", name)
    await page.select_option("#prechat-topic", topic)
    await page.fill("#prechat-contact", contact)
    await page.press("#prechat-contact", "Enter")
    await expect(page.locator("#prechat")).to_be_hidden()


async def test_customer_chats_with_bot_agent_and_notices(browser: Browser, rasa: FakeRasa, chat_url: str) -> None:
    page = await browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    token = customer_token()

    await page.goto(f"{chat_url}?lang=en#token={token}")
    await expect(page.locator("#chat-status[data-state=connected]")).to_have_text("Connected", timeout=10_000)
    # the token left the address bar at once and stays in this tab only
    assert "token" not in page.url and page.url.endswith("/chat/?lang=en")
    assert await page.evaluate("sessionStorage.getItem('webchat.customer_token')") == token
    assert rasa.session_requests == [_request(None, "en")]
    session_id = await _session_id(page)
    assert len(session_id) == 32
    # the secret is kept for this tab only, next to the id
    secret = await page.evaluate("sessionStorage.getItem('webchat.session_secret')")
    assert secret == conversation_secret(KEY, session_id)
    assert secret not in await page.evaluate("JSON.stringify(localStorage)")

    await page.fill("#chat-input", "Hello, my withdrawal " + XSS)
    await page.click("#chat-send")
    await expect(page.locator(".msg.customer .text").last).to_have_text("Hello, my withdrawal " + XSS)
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: Hello, my withdrawal " + XSS)
    await expect(page.locator(".msg.customer").last).to_have_attribute("data-state", "sent")
    await expect(page.locator("#chat-input")).to_have_value("")
    sent = rasa.messages[0]
    assert sent["message"] == "Hello, my withdrawal " + XSS
    assert sent["session_id"] == session_id and sent["session_secret"] == secret
    assert re.fullmatch(r"[a-z0-9]{6,64}", sent["customData"].pop("message_id"))  # as bot/channels/replay.py accepts it
    assert sent["customData"] == {"customer_token": token, "language": "en"}  # no "resend": a first sending
    assert set(sent) == {"message", "session_id", "session_secret", "customData"}

    # quick replies send their title, never the payload
    await page.fill("#chat-input", "buttons")
    await page.keyboard.press("Enter")
    buttons = page.locator(".msg.bot button.reply-button")
    await expect(buttons).to_have_text(["Yes", "No"])
    await buttons.first.click()
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: Yes")
    assert rasa.messages[-1]["message"] == "Yes"
    await expect(buttons.first).to_be_disabled()

    # an agent, a notice and markup from the server: all shown as text
    await rasa.push(
        session_id,
        {"text": "Merhaba, ben Ayşe. " + XSS, "metadata": {"sender": "agent", "agent_name": "Ayşe <b>Y.</b>"}},
    )
    await rasa.push(session_id, {"text": "An agent has joined the conversation.", "metadata": {"kind": "notice"}})
    await rasa.push(session_id, {"text": XSS})
    agent = page.locator(".msg.agent").last
    await expect(agent.locator(".agent-name")).to_have_text("Ayşe <b>Y.</b>")
    await expect(agent.locator(".text")).to_have_text("Merhaba, ben Ayşe. " + XSS)
    await expect(page.locator(".msg.notice .text")).to_have_text("An agent has joined the conversation.")
    await expect(page.locator(".msg.bot .text").last).to_have_text(XSS)
    assert await page.locator("#chat-log img, #chat-log script, #chat-log b").count() == 0
    # the three kinds look different
    colours = await page.evaluate(
        "['.msg.bot', '.msg.agent', '.msg.notice', '.msg.customer'].map((s) => getComputedStyle(document.querySelector(s)).backgroundColor)"
    )
    assert len(set(colours)) == 4

    # a reload keeps the conversation: same session, same messages
    await page.reload()
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    assert rasa.session_requests[-1] == _request(session_id, "en")
    await expect(page.locator(".msg.agent .agent-name")).to_have_text("Ayşe <b>Y.</b>")
    await page.fill("#chat-input", "still me")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: still me")
    assert rasa.messages[-1]["session_id"] == session_id
    assert rasa.messages[-1]["customData"]["customer_token"] == token

    # a new conversation forgets the session (the token stays: same customer)
    await page.click("#chat-new")
    await expect(page.locator(".msg")).to_have_count(0)
    await expect(page.locator("#chat-empty")).to_be_visible()
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    assert rasa.session_requests[-1] == _request(None, "en")
    assert await _session_id(page) != session_id

    assert await page.evaluate("window.__pwned") is None
    assert dialogs == [] and errors == [] and rasa.dropped == [] and rasa.refused == []


async def test_a_conversation_the_server_refuses_is_left_for_a_new_one(
    browser: Browser, rasa: FakeRasa, chat_url: str
) -> None:
    """A tab holding a conversation id without its secret (kept by an older
    page, or copied from elsewhere) is not let in: the page shows the notice,
    forgets the id and goes on in a new conversation, message included."""
    page = await browser.new_page()
    await page.goto(f"{chat_url}?lang=en")
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    someone_else = new_conversation_id()
    await page.evaluate(
        "(id) => { sessionStorage.setItem('webchat.session_id', id); sessionStorage.removeItem('webchat.session_secret'); }",
        someone_else,
    )
    await page.reload()
    await _fill_prechat(page)
    await expect(page.locator(".msg.notice .text")).to_have_text(REFUSED["text"], timeout=10_000)
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    assert rasa.refused == [{"session_id": someone_else, "session_secret": None, "language": "en"}]
    assert rasa.session_requests[-1] == _request(None, "en")
    session_id = await _session_id(page)
    assert session_id != someone_else
    await page.fill("#chat-input", "hello")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: hello")
    assert rasa.messages[-1]["session_id"] == session_id and rasa.dropped == []


async def test_survives_a_server_restart_without_losing_messages(
    browser: Browser, rasa: FakeRasa, chat_url: str
) -> None:
    page = await browser.new_page()
    await page.goto(f"{chat_url}?lang=tr")
    await _fill_prechat(page)
    status = page.locator("#chat-status")
    await expect(status).to_have_attribute("data-state", "connected", timeout=10_000)
    await expect(status).to_have_text("Bağlı")
    session_id = await _session_id(page)
    await page.fill("#chat-input", "buttons")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot button.reply-button")).to_have_count(2)

    # a message the server took but never acknowledged (it died handling it)
    await page.fill("#chat-input", "hold")
    await page.click("#chat-send")
    held = page.locator(".msg.customer").last
    await expect(held).to_have_attribute("data-state", "sending")
    # typed text stays in the disabled box while the server is away
    await page.fill("#chat-input", "yarım kalan mesaj")
    first_sending = rasa.messages[-1]
    await rasa.stop()
    await expect(status).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    await expect(status).to_have_text("Bağlantı koptu, yeniden bağlanılıyor…")
    await expect(page.locator("#chat-input")).to_be_disabled()
    await expect(page.locator("#chat-send")).to_be_disabled()
    await expect(page.locator("#chat-input")).to_have_value("yarım kalan mesaj")

    # a quick reply chosen while offline is queued, not lost
    await page.locator(".msg.bot button.reply-button", has_text="No").click()
    queued = page.locator(".msg.customer").last
    await expect(queued).to_have_attribute("data-state", "queued")
    await expect(queued.locator(".state")).to_have_text("Bağlantı gelince gönderilecek")

    rasa.messages.clear()
    await rasa.start()
    await expect(status).to_have_attribute("data-state", "connected", timeout=15_000)
    assert rasa.session_requests[-1] == _request(session_id, "tr")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: No", timeout=10_000)
    await expect(queued).to_have_attribute("data-state", "sent")
    await expect(held).to_have_attribute("data-state", "sent")
    await expect(page.locator(".msg.bot .text", has_text="bot: hold")).to_have_count(1)
    # sent again in order, the unacknowledged one marked as a resend with the id it had
    assert [m["message"] for m in rasa.messages] == ["hold", "No"]
    assert all(m["session_id"] == session_id for m in rasa.messages)
    resent = rasa.messages[0]["customData"]
    assert first_sending["customData"].get("resend") is None and first_sending["customData"]["message_id"]
    assert resent == {"language": "tr", "message_id": first_sending["customData"]["message_id"], "resend": True}
    no = rasa.messages[1]["customData"]
    assert no == {"language": "tr", "message_id": no["message_id"]}  # no token was given; never sent before
    assert no["message_id"] != resent["message_id"]

    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: yarım kalan mesaj")
    assert rasa.messages[-1]["session_id"] == session_id
    assert rasa.dropped == []


async def test_languages_and_the_length_limit(browser: Browser, rasa: FakeRasa, chat_url: str) -> None:
    context = await browser.new_context(locale="tr-TR")
    page = await context.new_page()
    await page.goto(chat_url)  # no ?lang=: the browser's language
    await expect(page.locator("#chat-status[data-state=connected]")).to_have_text("Bağlı", timeout=10_000)
    await expect(page.locator("h1")).to_have_text("Canlı destek")
    await expect(page.locator("html")).to_have_attribute("lang", "tr")
    await expect(page.locator("#chat-limit")).to_have_text("En fazla 4.000 karakter.")
    assert await page.locator("#chat-input").get_attribute("maxlength") == "4000"

    await _fill_prechat(page)
    await page.click("#chat-lang")
    await expect(page.locator("h1")).to_have_text("Live support")
    await expect(page.locator("#chat-status")).to_have_text("Connected")
    await expect(page.locator("#chat-limit")).to_have_text("Up to 4,000 characters.")
    await page.fill("#chat-input", "hi")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot .text").last).to_have_text("bot: hi")
    assert rasa.messages[-1]["customData"]["language"] == "en"

    # the box takes at most 4,000 characters, in any script: 4,000 Turkish
    # letters (8,000 UTF-8 bytes) are within the service's byte limit too
    await page.fill("#chat-input", "a" * 4100)
    assert len(await page.input_value("#chat-input")) == 4000
    await page.fill("#chat-input", "ş" * 4000)
    await page.click("#chat-send")
    await expect(page.locator(".msg.customer .text").last).to_have_text("ş" * 4000)
    assert rasa.messages[-1]["message"] == "ş" * 4000
    await expect(page.locator("#chat-error")).to_be_hidden()
    await context.close()


async def test_phone_screen(browser: Browser, rasa: FakeRasa, chat_url: str, tmp_path: Path) -> None:
    context = await browser.new_context(
        viewport={"width": 375, "height": 667}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    await page.goto(f"{chat_url}?lang=tr")
    await _fill_prechat(page)
    await expect(page.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    session_id = await _session_id(page)
    await page.fill("#chat-input", "merhaba, dün yaptığım para çekme hâlâ hesabıma gelmedi")
    await page.click("#chat-send")
    await page.fill("#chat-input", "buttons")
    await page.click("#chat-send")
    await expect(page.locator(".msg.bot button.reply-button")).to_have_count(2)
    await rasa.push(session_id, {"text": "Müşteri temsilcisi görüşmeye katıldı.", "metadata": {"kind": "notice"}})
    await rasa.push(
        session_id,
        {
            "text": "Merhaba, ben Ayşe. Çekiminizi kontrol ediyorum.",
            "metadata": {"sender": "agent", "agent_name": "Ayşe"},
        },
    )
    await expect(page.locator(".msg.agent")).to_be_visible()

    sizes = await page.evaluate(
        "({ scroll: document.documentElement.scrollWidth, width: innerWidth, height: innerHeight,"
        " send: document.getElementById('chat-send').getBoundingClientRect().toJSON(),"
        " input: document.getElementById('chat-input').getBoundingClientRect().toJSON() })"
    )
    assert sizes["scroll"] <= sizes["width"] == 375  # nothing wider than the phone
    for box in (sizes["send"], sizes["input"]):  # the compose row is on screen
        assert box["left"] >= 0 and box["right"] <= 375 and box["bottom"] <= sizes["height"]
    assert sizes["input"]["width"] >= 200
    shot = os.environ.get("WEBCHAT_SCREENSHOT") or str(tmp_path / "webchat-375x667.png")
    await page.screenshot(path=shot)
    await context.close()
