"""The editors' page in headless Chromium: an editor sees a message the bot
did not understand, assigns it to an FAQ and sees the change; an agent is
kept out; the page speaks Turkish and English and works from the keyboard.
The editor writes into a copy of the project's data, never the repo's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import ConversationEvent, ConversationLanguage, utcnow
from handoff.settings import REPO_ROOT
from stack.editor import project_copy
from tests.handoff.conftest import Running, Seed, StartApp
from tests.handoff.editor_helpers import start_editor_app
from tests.handoff.helpers import PASSWORD

XSS = '<img src=x onerror="window.__pwned = 1">'
MISUNDERSTOOD = "kupon kodum hiç çalışmıyor ne yapmalıyım"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """What the editor may change and train from, copied."""
    return project_copy(tmp_path)


@pytest.fixture
async def editor_server(
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    project: Path,
    start_app: StartApp,
) -> Running:
    """The real app writing into ``project``."""
    return await start_editor_app(
        db_url=db_url, sessionmaker=sessionmaker, password_hash=password_hash, project=project, start_app=start_app
    )


async def _seed_misunderstood(sessionmaker: async_sessionmaker[AsyncSession], text: str) -> None:
    """A Turkish conversation where the bot did not understand the customer
    (intent nlu_fallback) and said so."""
    now = utcnow() - timedelta(minutes=10)
    conversation = "conv-editor-" + uuid.uuid4().hex[:6]
    lines = [
        ("bot", "Merhaba! Size nasıl yardımcı olabilirim?", {"response": "utter_greet"}),
        ("customer", text, {"intent": "nlu_fallback", "confidence": 0.31, "channel": "socketio"}),
        ("bot", "Üzgünüm, tam anlayamadım. Başka bir şekilde yazar mısınız?", {"response": "utter_default"}),
    ]
    async with sessionmaker() as session, session.begin():
        for i, (kind, line, extra) in enumerate(lines):
            session.add(
                ConversationEvent(
                    conversation_id=conversation,
                    event_key=f"{conversation}-{i}",
                    kind=kind,
                    text=line,
                    timestamp=now + timedelta(seconds=i),
                    **extra,
                )
            )
        session.add(ConversationLanguage(conversation_id=conversation, language="tr"))


async def _log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/console/editor/")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")


def _faq_examples(project: Path) -> str:
    return (project / "data" / "faq" / "nlu_tr.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_editor_assigns_a_misunderstood_message_to_an_faq(
    browser: Browser,
    editor_server: Running,
    sessionmaker: async_sessionmaker[AsyncSession],
    project: Path,
) -> None:
    await _seed_misunderstood(sessionmaker, MISUNDERSTOOD + " " + XSS)
    page = await browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.add_init_script("localStorage.setItem('handoff.lang', 'en')")
    await _log_in(page, editor_server.base_url, "ed")
    await expect(page.locator("#editor-view")).to_be_visible()
    await expect(page.locator("#console-link")).to_be_hidden()  # editors work on the bot only

    group = page.locator("#groups li.group").filter(has_text=MISUNDERSTOOD)
    await expect(group).to_have_count(1)
    await expect(group.locator(".group-label")).to_contain_text(XSS)  # the customer's markup shown as text
    await expect(group.locator(".badge.reason").first).to_contain_text("not understood")
    await expect(group.locator(".context li.current")).to_contain_text(MISUNDERSTOOD)

    await group.locator("button.decide-group").click()
    await expect(page.locator("#decide-dialog")).to_be_visible()
    await page.select_option("#decision-kind", "faq")
    await page.select_option("#decision-target", "promotion_terms")
    await page.click("#decision-submit")

    await expect(page.locator("#decide-status")).to_have_text("Checking the change (Rasa reads the data)…")
    report = page.locator("#decision-result")
    await expect(report).to_be_visible(timeout=120_000)  # Rasa's check of the changed data first
    await expect(page.locator("#change-summary")).to_contain_text("1 message decided")
    await expect(page.locator("#change-added")).to_contain_text(MISUNDERSTOOD)
    await expect(page.locator("#change-added")).to_contain_text("promotion_terms")
    await expect(page.locator("#change-files")).to_contain_text("data/faq/nlu_tr.yml")
    await expect(page.locator("#groups li.group").filter(has_text=MISUNDERSTOOD)).to_have_count(0)
    assert MISUNDERSTOOD in _faq_examples(project)
    assert MISUNDERSTOOD not in (REPO_ROOT / "data" / "faq" / "nlu_tr.yml").read_text(encoding="utf-8")

    await page.click("#lang-toggle")
    await expect(page.locator("h1")).to_have_text("Bot düzenleyici")
    await expect(page.locator("#tab-inbox")).to_have_text("İnceleme kutusu")
    await expect(page.locator("#decision-result h2")).to_have_text("Değişiklik")
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("#groups img, #decision-result img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_new_faq_needs_both_answers_and_escape_closes_the_dialog(
    browser: Browser, editor_server: Running, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed_misunderstood(sessionmaker, MISUNDERSTOOD)
    page = await browser.new_page()
    await page.add_init_script("localStorage.setItem('handoff.lang', 'tr')")
    await _log_in(page, editor_server.base_url, "ed")
    await expect(page.locator("h1")).to_have_text("Bot düzenleyici")
    decide = page.locator("#groups button.decide").first
    await expect(decide).to_be_visible()

    # keyboard only: Tab reaches the decision button, Enter opens, Escape closes
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await decide.evaluate("(node) => node === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the decision button")
    await page.keyboard.press("Enter")
    await expect(page.locator("#decide-dialog")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.locator("#decide-dialog")).to_be_hidden()
    assert await decide.evaluate("(node) => node === document.activeElement")

    await page.keyboard.press("Enter")
    await page.select_option("#decision-kind", "new_faq")
    await page.fill("#new-faq-id", "coupon_codes")
    await page.fill("#new-faq-tr", "Kupon kodları yalnızca kampanya süresince geçerlidir.")
    await page.click("#decision-submit")
    await expect(page.locator("#decide-error")).to_have_text(
        "Yeni bir SSS konusu için Türkçe ve İngilizce yanıt gerekli."
    )
    await page.keyboard.press("Escape")
    await page.click("#lang-toggle")
    await decide.click()
    await expect(page.locator("#decide-title")).to_have_text("What did the customer mean?")
    await page.select_option("#decision-kind", "new_faq")
    await page.fill("#new-faq-id", "coupon_codes")
    await page.fill("#new-faq-en", "Coupon codes are valid while their campaign runs.")
    await page.click("#decision-submit")
    await expect(page.locator("#decide-error")).to_have_text(
        "A new FAQ topic needs its answer in Turkish and in English."
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_agents_are_kept_out_editors_are_sent_in_supervisors_get_a_link(
    browser: Browser, editor_server: Running
) -> None:
    page = await browser.new_page()
    await page.add_init_script("localStorage.setItem('handoff.lang', 'en')")
    await _log_in(page, editor_server.base_url, "fin")
    await expect(page.locator("#forbidden-view")).to_be_visible()
    await expect(page.locator("#forbidden-text")).to_have_text("Editors and supervisors only.")
    await expect(page.locator("#editor-view")).to_be_hidden()
    await page.click("#lang-toggle")
    await expect(page.locator("#forbidden-text")).to_have_text("Yalnızca editörler ve süpervizörler.")

    # an editor logging in at the agent console is sent to the editors' page
    editor = await browser.new_page()
    await editor.add_init_script("localStorage.setItem('handoff.lang', 'en')")
    await editor.goto(f"{editor_server.base_url}/console/")
    await editor.fill("#login-username", "ed")
    await editor.fill("#login-password", PASSWORD)
    await editor.click("#login-submit")
    await expect(editor).to_have_url(f"{editor_server.base_url}/console/editor/#inbox")
    await expect(editor.locator("#editor-view")).to_be_visible()

    # a supervisor works tickets and edits: a link each way
    boss = await browser.new_page()
    await boss.add_init_script("localStorage.setItem('handoff.lang', 'en')")
    await boss.goto(f"{editor_server.base_url}/console/")
    await boss.fill("#login-username", "boss")
    await boss.fill("#login-password", PASSWORD)
    await boss.click("#login-submit")
    await expect(boss.locator("#main-view")).to_be_visible()
    await expect(boss.locator("#editor-link")).to_have_text("Bot editor")
    await boss.click("#editor-link")
    await expect(boss.locator("#editor-view")).to_be_visible()
    await expect(boss.locator("#console-link")).to_be_visible()
    await boss.click("#lang-toggle")
    await expect(boss.locator("#console-link")).to_have_text("Temsilci konsolu")
    # every text of the page exists in both languages
    missing = await boss.evaluate(
        """() => { const L = window.HANDOFF_EDITOR_I18N;
                   const only = (a, b) => Object.keys(L[a]).filter((k) => !(k in L[b]) || !L[b][k]);
                   return { tr: only("en", "tr"), en: only("tr", "en") }; }"""
    )
    assert missing == {"tr": [], "en": []}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_page_and_its_files_carry_the_consoles_security_headers(editor_server: Running) -> None:
    async with httpx.AsyncClient(base_url=editor_server.base_url) as client:
        for path, kind in (
            ("/console/editor/", "text/html"),
            ("/console/editor.js", "text/javascript"),
            ("/console/editor.css", "text/css"),
        ):
            res = await client.get(path)
            assert res.status_code == 200, path
            assert res.headers["content-type"].startswith(kind)
            assert "script-src 'self'" in res.headers["content-security-policy"]
            assert res.headers["x-content-type-options"] == "nosniff"
        page = (await client.get("/console/editor/")).text
        assert "<script>" not in page and "style=" not in page
        assert (await client.get("/console/editor.html")).status_code == 404
