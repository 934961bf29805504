"""Identity verification from the anonymous chat to the customer panel, in
headless Chromium: a visitor fills the pre-chat form (topic identity
verification, a typed username), the account agent asks for documents from
the console, the chat opens its upload prompt, the visitor sends a photo of
an ID card, the agent rejects it with a reason from the editors' list, and
the visitor, signing in to the panel in the same tab (the platform's token
in the fragment, as ``bot.demo_link --panel`` makes it), finds the request
in their account with the reason in their language.

The web chat talks to the socket.io server of test_webchat_browser.py
(Rasa's protocol with our channel's changes: it issues the conversation's
id and secret with the same key as the handoff service); the handoff
service reaches the chat through ``ChatRelay``, which sends what
``RasaChannel`` would append to the conversation as Rasa's socket.io output
delivers it (bot/channels/formatting.py). Screenshots go to
``HANDOFF_PANEL_SCREENSHOTS`` when it names a directory."""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, expect

from handoff.app import create_app
from handoff.notice_texts import load_notice_texts
from handoff.services.channel import CUSTOMER_SENDER, CustomerChannel
from support_rules.conversations import (
    CONVERSATION_ID_HEADER,
    CONVERSATION_SECRET_HEADER,
    conversation_secret,
    new_conversation_id,
)
from support_rules.customer_token import mint_customer_token
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from support_rules.tickets import HANDBACK_INTENT
from support_rules.verification import REQUEST_DOCUMENTS_KEY, load_verification
from tests.handoff import test_webchat_browser as webchat
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.factories import distinct_topic, summary
from tests.handoff.helpers import PASSWORD, bot_headers, login, make_settings
from tests.handoff.test_webchat_browser import KEY, VENDOR, FakeRasa, _fill_prechat

rasa = webchat.rasa  # the fake Rasa socket.io server, as test_webchat_browser.py has it

SECRET = "verification-panel-customer-token-secret-0123456789"
WORDS = "Hesabım için kimlik doğrulaması yapmam gerekiyor"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
SHOTS = os.environ.get("HANDOFF_PANEL_SCREENSHOTS")
ROOT = Path(__file__).resolve().parents[2]
TEXTS = load_verification(ROOT / "data" / "verification.yml")
NOTICES = load_notice_texts(ROOT / "data" / "notices.yml")


class ChatRelay(CustomerChannel):
    """Rasa between the handoff service and the web chat, in process: a bot
    event appended by ``RasaChannel`` reaches the page as Rasa's socket.io
    output sends it, one message per paragraph with the metadata keys the
    chat reads."""

    def __init__(self, fake: FakeRasa) -> None:
        self.rasa = fake
        self.given_back: list[tuple[str, str]] = []

    async def _say(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> None:
        for part in text.strip().split("\n\n"):
            await self.rasa.push(conversation_id, {"text": part, "metadata": metadata})

    async def send(self, conversation_id: str, text: str, agent_display_name: str) -> None:
        await self._say(conversation_id, text, {"sender": "agent", "agent_name": agent_display_name})

    async def notify(self, conversation_id: str, text: str) -> None:
        await self._say(conversation_id, text, {"kind": "notice"})

    async def request_documents(self, conversation_id: str, text: str) -> None:
        await self._say(conversation_id, text, {"kind": "notice", REQUEST_DOCUMENTS_KEY: True})

    async def echo_customer_line(self, conversation_id: str, text: str) -> None:
        await self._say(conversation_id, text, {"sender": CUSTOMER_SENDER})

    async def hand_back(self, conversation_id: str, *, intent: str = HANDBACK_INTENT) -> None:
        self.given_back.append((conversation_id, intent))


@pytest.fixture
async def base_url(db_url: str, seed: Seed, rasa: FakeRasa, tmp_path: Path, start_app: StartApp) -> str:
    if not VENDOR.is_file():
        pytest.fail(f"{VENDOR} is missing: run `make webchat-setup` (npm ci of handoff/webchat/package.json)")
    settings = make_settings(
        db_url,
        rasa_public_url=f"http://127.0.0.1:{rasa.port}",
        conversation_secret_key=KEY,  # the same key as the (fake) Rasa channel's
        customer_token_secret=SECRET,
        document_dir=tmp_path / "documents",
    )
    app = create_app(settings, channel=ChatRelay(rasa), name=f"verify_panel_{uuid.uuid4().hex[:8]}")
    return (await start_app(app)).base_url


def id_card_photo() -> bytes:
    """A photo of an ID card, as a phone takes it (JPEG)."""
    img = Image.new("RGB", (640, 400), (232, 236, 241))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((40, 40, 600, 360), radius=24, fill=(190, 214, 238), outline=(35, 50, 77), width=4)
    draw.rectangle((70, 110, 230, 320), fill=(140, 150, 170))
    for y in (120, 170, 220, 270):
        draw.rectangle((260, y, 560, y + 22), fill=(90, 110, 140))
    draw.text((70, 60), "TC KIMLIK KARTI / IDENTITY CARD", fill=(35, 50, 77))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def _fits(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")


async def _console(browser: Browser, base_url: str, number: str) -> Page:
    page = await (await browser.new_context(viewport=WIDE, locale="en-GB")).new_page()
    await page.goto(f"{base_url}/console/")
    await page.fill("#login-username", "acc")
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    await page.locator(f'#queue li[data-number="{number}"]').click()
    await expect(page.locator("#card-kind")).to_have_text("identity verification")
    await page.click("#claim-this")
    await expect(page.locator("#reply-form")).to_be_visible()
    return page


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_visitors_rejected_document_shows_in_the_panel_after_signing_in(
    browser: Browser, rasa: FakeRasa, base_url: str
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="tr-TR", is_mobile=True, has_touch=True)
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))

    # an anonymous visitor: the pre-chat form, on the identity verification topic
    await tab.goto(f"{base_url}/chat/?lang=tr")
    await _fill_prechat(tab, name="Ayşe", topic="verification", contact="ayse_k")
    await expect(tab.locator("#chat-status[data-state=connected]")).to_be_visible(timeout=10_000)
    await tab.fill("#chat-input", WORDS)
    await tab.keyboard.press("Enter")
    await expect(tab.locator(".msg.bot .text").last).to_contain_text("kimlik doğrulaması")
    first = rasa.messages[0]["customData"]["prechat"]
    assert first == {"name": "Ayşe", "topic": "verification", "username": "ayse_k"}
    conversation_id = str(await tab.evaluate("sessionStorage.getItem('webchat.session_id')"))

    # the bot hands the conversation off as triage made it: the username typed, not proven
    now = datetime.now(timezone.utc).isoformat()
    body = summary(
        "account",
        conversation_id=conversation_id,
        username="ayse_k",
        username_source=USERNAME_TYPED,
        topic={"id": "verification", "label": "Kimlik doğrulama"},
        transaction_type=None,
        transaction_date=None,
        description=WORDS,
        faq_tried=[],
        intents=[{"name": "verification_request", "confidence": 0.88}],
        transcript=[
            {"sender": "customer", "text": WORDS, "timestamp": now},
            {"sender": "bot", "text": "Sizi Hesap İşlemleri ekibimize aktarıyorum.", "timestamp": now},
        ],
    )
    body["priority"] = {"level": "normal", "reason": "identity verification"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers("verify-panel"))
        assert res.status_code == 201, res.text
        number = str(res.json()["ticket_number"])

    # the account agent claims it and asks for documents from the console
    console = await _console(browser, base_url, number)
    await console.click("#request-documents")
    asked = NOTICES.render("documents_requested", "tr", documents=TEXTS.documents_list("tr"))
    prompt = tab.locator("#chat-upload-request")
    await expect(prompt).to_be_visible(timeout=10_000)
    await expect(tab.locator("#chat-upload-title")).to_have_text("Sizden belge isteniyor")
    await expect(tab.locator("#chat-upload-text")).to_have_text(asked)
    await expect(tab.locator(".msg.asks-documents .text")).to_have_text(asked)
    await expect(tab.locator("#chat-attach")).to_have_class("wanted")
    await _fits(tab)
    await _shoot(tab, "chat-documents-asked-tr-390")

    # the visitor sends a photo of their ID card from the prompt, with the keyboard
    async with tab.expect_file_chooser() as chooser:
        await tab.focus("#chat-upload-choose")
        await tab.keyboard.press("Enter")
    await (await chooser.value).set_files({"name": "kimlik.jpg", "mimeType": "image/jpeg", "buffer": id_card_photo()})
    line = tab.locator(".msg.customer.file").last
    await expect(line).to_have_attribute("data-state", "sent")
    await expect(tab.locator("#chat-upload-title")).to_contain_text("Belgeniz gönderildi")
    await expect(tab.locator("#chat-upload-choose")).to_have_text("Başka belge ekle")

    # the agent sees it and rejects it with a reason from the editors' list
    await expect(console.locator("#documents img")).to_have_attribute("alt", "kimlik.jpg", timeout=10_000)
    await console.select_option("#verify-reason", "expired")
    await console.click("#verify-reject")
    await expect(console.locator("#card-verification")).to_have_text("rejected")
    told = NOTICES.render("verification_rejected", "tr", reason=TEXTS.reason("expired")["tr"])
    await expect(tab.locator(".msg.notice .text").last).to_have_text(told, timeout=10_000)
    await _shoot(console, "console-verification-rejected-1400")

    # the visitor signs in on the platform, which opens the panel in the same tab
    token = mint_customer_token("ayse_k", SECRET)
    await tab.goto(f"{base_url}/panel/#token={token}")
    await expect(tab.locator("#list-view")).to_be_visible()
    assert token not in tab.url
    await expect(tab.locator("#panel-linked")).to_have_text(f"Bu sekmedeki sohbetinizden hesabınıza eklendi: {number}.")
    card = tab.locator(f'#open-list [data-number="{number}"]')
    await expect(card).to_contain_text("Kimlik doğrulama")
    await expect(card.locator(".vstatus")).to_have_text("Doğrulama: Onaylanmadı")
    await _fits(tab)
    await _shoot(tab, "panel-list-verification-tr-390")

    await card.click()
    await expect(tab.locator("#detail-number")).to_have_text(number)
    await expect(tab.locator("#verification-status")).to_have_text("Onaylanmadı")
    await expect(tab.locator("#verification-reason-text")).to_have_text(TEXTS.reason("expired")["tr"])
    await expect(tab.locator("#verification-reason-text")).to_have_text("Kimlik belgesinin süresi dolmuş")
    await expect(tab.locator("#verification-needed-list li")).to_have_text(
        [names["tr"] for names in TEXTS.documents.values()]
    )
    await expect(tab.locator("#transcript li.customer").last).to_contain_text("kimlik.jpg")
    await _fits(tab)
    await _shoot(tab, "panel-detail-rejected-tr-390")

    # in English, on a wide screen
    await tab.click("#panel-lang")
    await expect(tab.locator("#verification-status")).to_have_text("Not approved")
    await expect(tab.locator("#verification-reason-text")).to_have_text("The identity document has expired")
    await expect(tab.locator("#verification-title")).to_have_text("Identity verification")
    await _shoot(tab, "panel-detail-rejected-en-390")
    await tab.set_viewport_size(WIDE)
    await _fits(tab)
    await _shoot(tab, "panel-detail-rejected-en-1400")
    await tab.click("#detail-back")
    await expect(card.locator(".vstatus")).to_have_text("Verification: Not approved")
    await _shoot(tab, "panel-list-verification-en-1400")
    await tab.click("#panel-lang")
    await card.click()
    await expect(tab.locator("#verification-status")).to_have_text("Onaylanmadı")
    await _shoot(tab, "panel-detail-rejected-tr-1400")
    assert errors == []
    await context.close()


async def _verification_request(client: httpx.AsyncClient, conversation_id: str) -> str:
    body = summary(
        "account",
        conversation_id=conversation_id,
        username="ayse_k",
        username_source=USERNAME_VERIFIED,
        topic={"id": "verification", "label": "Kimlik doğrulama"},
        transaction_type=None,
        transaction_date=None,
    )
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])


async def _close(client: httpx.AsyncClient, number: str) -> None:
    acc = await login(client, "acc")
    await client.post(f"/api/v1/tickets/{number}/claim", headers=acc)  # 409 when already acc's
    res = await client.post(f"/api/v1/tickets/{number}/resolve", json={}, headers=acc)
    assert res.status_code == 200, res.text


async def _send_id(client: httpx.AsyncClient, conversation_id: str) -> None:
    headers = {
        CONVERSATION_ID_HEADER: conversation_id,
        CONVERSATION_SECRET_HEADER: conversation_secret(KEY, conversation_id),
    }
    files = {"file": ("kimlik.jpg", id_card_photo(), "image/jpeg")}
    assert (await client.post("/chat/documents", files=files, headers=headers)).status_code == 201


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_each_verification_request_shows_its_own_step(browser: Browser, base_url: str) -> None:
    """Approved, documents under review, documents still needed: the badge
    on each card and the box on each request, in Turkish and English."""
    chats = [new_conversation_id() for _ in range(3)]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        approved = await _verification_request(client, chats[0])
        await _send_id(client, chats[0])
        acc = await login(client, "acc")
        res = await client.post(f"/api/v1/tickets/{approved}/verification", json={"decision": "approve"}, headers=acc)
        assert res.status_code == 200, res.text
        # one request per problem: a verification request is closed before the next one opens
        await _close(client, approved)
        needed = await _verification_request(client, chats[1])
        await _close(client, needed)
        received = await _verification_request(client, chats[2])
        await _send_id(client, chats[2])
        support = await _hand_off_support(client)

    context = await browser.new_context(viewport=PHONE, locale="tr-TR")
    page = await context.new_page()
    await page.goto(f"{base_url}/panel/#token={mint_customer_token('ayse_k', SECRET)}")
    await expect(page.locator("#list-view")).to_be_visible()
    await expect(page.locator("#panel-linked")).to_be_hidden()  # no chat in this tab: nothing linked
    badges = {
        approved: "Doğrulama: Onaylandı",
        needed: "Doğrulama: Belge bekleniyor",
        received: "Doğrulama: Belgeler inceleniyor",
    }
    for number, badge in badges.items():
        await expect(page.locator(f'[data-number="{number}"] .vstatus')).to_have_text(badge)
    await expect(page.locator(f'[data-number="{support}"] .vstatus')).to_have_count(0)
    await _fits(page)
    await _shoot(page, "panel-list-states-tr-390")

    await page.locator(f'[data-number="{needed}"]').click()
    await expect(page.locator("#verification-status")).to_have_text("Belge bekleniyor")
    await expect(page.locator("#verification-reason")).to_be_hidden()
    await expect(page.locator("#verification-needed-list li")).to_have_count(len(TEXTS.documents))
    await _shoot(page, "panel-detail-needed-tr-390")
    await page.click("#panel-lang")
    await expect(page.locator("#verification-status")).to_have_text("Documents needed")
    await expect(page.locator("#verification-needed-list li").first).to_have_text(
        next(iter(TEXTS.documents.values()))["en"]
    )
    await _shoot(page, "panel-detail-needed-en-390")

    await page.set_viewport_size(WIDE)
    await page.click("#detail-back")
    await expect(page.locator(f'[data-number="{received}"] .vstatus')).to_have_text(
        "Verification: Documents under review"
    )
    await _shoot(page, "panel-list-states-en-1400")
    await page.locator(f'[data-number="{received}"]').click()
    await expect(page.locator("#verification-note")).to_contain_text("an agent is reviewing them")
    await expect(page.locator("#verification-needed")).to_be_hidden()
    await _shoot(page, "panel-detail-received-en-1400")
    await page.click("#detail-back")
    await page.click("#panel-lang")
    await page.locator(f'[data-number="{approved}"]').click()
    await expect(page.locator("#verification-status")).to_have_text("Onaylandı")
    await expect(page.locator("#verification-decided")).to_contain_text("Karar tarihi")
    await expect(page.locator("#verification-needed")).to_be_hidden()
    await _shoot(page, "panel-detail-approved-tr-1400")
    await context.close()


async def _hand_off_support(client: httpx.AsyncClient) -> str:
    body = summary("finance", username="ayse_k", username_source=USERNAME_VERIFIED, topic=distinct_topic("finance"))
    res = await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(uuid.uuid4().hex))
    assert res.status_code == 201, res.text
    return str(res.json()["ticket_number"])
