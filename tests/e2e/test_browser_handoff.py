"""The whole loop in a browser: a customer in the web chat, an agent in the
console, two browser contexts in headless Chromium (Debian's package driven
by Playwright), against the real processes: Rasa, the action server and the
handoff service (stack/live.py).

Anonymous visitors fill the pre-chat form first (name, topic, username) and
are greeted by name; signed-in customers see no form.

Turkish: age check, FAQ that does not help, triage, ticket number and queue
position; the agent sees the ticket arrive live with the summary, claims it
and replies; the customer sees the reply with the agent's name, answers, and
the agent sees the answer; the agent hands back and the bot greets the
customer again. English: the same, shorter.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from stack.live import AGENT_PASSWORD, LiveStack

BOT_WAIT = 45_000  # ms; the first answers of a fresh Rasa take longest
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    running = LiveStack(Path(tmp_path_factory.mktemp("e2e")))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    customer = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    agent = browser.new_context()
    try:
        yield customer, agent
    finally:
        customer.close()
        agent.close()


def _open_chat(page: Page, stack: LiveStack, lang: str) -> None:
    page.goto(f"{stack.handoff_url}/chat/?lang={lang}")
    expect(page.locator("#chat-status")).to_have_attribute("data-state", "connected", timeout=BOT_WAIT)


def _fill_prechat(page: Page, name: str, topic: str, contact: str) -> None:
    """An anonymous visitor's pre-chat form, sent with Enter."""
    expect(page.locator(f'#prechat-topic option[value="{topic}"]')).to_have_count(1, timeout=BOT_WAIT)
    page.fill("#prechat-name", name)
    page.select_option("#prechat-topic", topic)
    page.fill("#prechat-contact", contact)
    page.press("#prechat-contact", "Enter")
    expect(page.locator("#prechat")).to_be_hidden()


def _say(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.click("#chat-send")
    expect(page.locator(".msg.customer").last).to_contain_text(text)


def _bot_says(page: Page, fragment: str) -> str:
    message = page.locator(".msg.bot").filter(has_text=fragment).last
    expect(message).to_be_visible(timeout=BOT_WAIT)
    return message.inner_text()


def _log_in(page: Page, stack: LiveStack, username: str) -> None:
    page.goto(f"{stack.handoff_url}/console/")
    page.fill("#login-username", username)
    page.fill("#login-password", AGENT_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=15_000)


def _agent_takes(agent: Page, number: str, username: str) -> None:
    item = agent.locator(f'#queue li[data-number="{number}"]')
    expect(item).to_be_visible(timeout=15_000)  # arrived live, no reload
    item.click()
    expect(agent.locator("#ticket-number")).to_have_text(number)
    expect(agent.locator("#card-username")).to_have_text(username)
    agent.click("#claim-this")
    expect(agent.locator("#reply-form")).to_be_visible()


def _agent_replies(agent: Page, text: str) -> None:
    agent.fill("#reply-text", text)
    agent.click("#reply-send")
    expect(agent.locator("#transcript li.agent").last).to_contain_text(text)


def _finance_agent_and_customer(
    stack: LiveStack, contexts: tuple[BrowserContext, BrowserContext], lang: str
) -> tuple[Page, Page]:
    """The finance agent logged in to the console and a customer with the chat
    open in ``lang``: (customer, agent)."""
    customer_context, agent_context = contexts
    agent = agent_context.new_page()
    _log_in(agent, stack, "agent_finance")
    customer = customer_context.new_page()
    _open_chat(customer, stack, lang)
    return customer, agent


def _ticket_number(text: str) -> str:
    found = re.search(r"T-\d{6}", text)
    assert found, text
    return found.group(0)


def test_turkish_customer_to_agent_and_back(stack: LiveStack, contexts: tuple[BrowserContext, BrowserContext]) -> None:
    customer, agent = _finance_agent_and_customer(stack, contexts, "tr")
    _fill_prechat(customer, "Ayşe", "withdrawal", "ayse_k")

    _say(customer, "merhaba, dün yaptığım para çekme hala hesabıma gelmedi")
    _bot_says(customer, "Doğum tarihiniz")
    assert customer.locator(".msg.bot .text").first.inner_text().startswith("Merhaba Ayşe!")  # greeted by name
    _say(customer, "17.08.1985")
    _bot_says(customer, "çözdü mü")
    _say(customer, "hayır")
    confirmation = _bot_says(customer, "doğru mu")  # the username came with the pre-chat form: not asked
    assert "ayse_k" in confirmation
    assert customer.locator(".msg.bot").filter(has_text="kullanıcı adınız").count() == 0
    _say(customer, "evet")
    receipt = _bot_says(customer, "T-")
    number = _ticket_number(receipt)
    assert "sıra" in receipt  # the queue position is given with the number

    _agent_takes(agent, number, "ayse_k")
    expect(agent.locator("#card-topic")).not_to_have_text("")
    expect(customer.locator(".msg.notice").filter(has_text="sohbete katıldı")).to_be_visible(timeout=BOT_WAIT)

    _agent_replies(agent, "Merhaba Ayşe, hemen kontrol ediyorum.")
    reply = customer.locator(".msg.agent").filter(has_text="hemen kontrol ediyorum").last
    expect(reply).to_be_visible(timeout=BOT_WAIT)
    expect(reply.locator(".agent-name")).to_have_text("Agent Finance")

    _say(customer, "Teşekkürler, bekliyorum")
    expect(agent.locator("#transcript li.customer").filter(has_text="Teşekkürler, bekliyorum")).to_be_visible(
        timeout=BOT_WAIT
    )
    assert customer.locator(".msg.bot").filter(has_text="Teşekkürler").count() == 0  # the bot kept quiet

    agent.click("#hand-back")
    _bot_says(customer, "Tekrar merhaba")
    _say(customer, "şifremi unuttum")
    _bot_says(customer, "çözdü mü")  # the bot answers again


def test_english_customer_to_agent_and_back(stack: LiveStack, contexts: tuple[BrowserContext, BrowserContext]) -> None:
    customer, agent = _finance_agent_and_customer(stack, contexts, "en")
    _fill_prechat(customer, "John", "withdrawal", "john_doe99")

    for text, answer in (
        ("hello", "date of birth"),
        ("May 4, 1990", "Which kind of transaction"),  # the topic came with the pre-chat form
        ("withdrawl", "When did"),
        ("last friday", "Is this correct"),  # and the username
    ):
        _say(customer, text)
        _bot_says(customer, answer)
    assert customer.locator(".msg.bot .text").first.inner_text().startswith("Hello John!")
    assert customer.locator(".msg.bot").filter(has_text="What is your problem about").count() == 0
    _say(customer, "yes")
    number = _ticket_number(_bot_says(customer, "T-"))

    # a reload keeps the conversation: the page rejoins it with the secret it was given
    session_id = customer.evaluate("sessionStorage.getItem('webchat.session_id')")
    customer.reload()
    expect(customer.locator("#chat-status")).to_have_attribute("data-state", "connected", timeout=BOT_WAIT)
    assert customer.evaluate("sessionStorage.getItem('webchat.session_id')") == session_id
    expect(customer.locator(".msg.notice")).to_have_count(0)  # not refused

    _agent_takes(agent, number, "john_doe99")
    _agent_replies(agent, "Hello John, I am checking your withdrawal.")
    reply = customer.locator(".msg.agent").filter(has_text="checking your withdrawal").last
    expect(reply).to_be_visible(timeout=BOT_WAIT)
    expect(reply.locator(".agent-name")).to_have_text("Agent Finance")
    _say(customer, "thank you, I'll wait")
    expect(agent.locator("#transcript li.customer").filter(has_text="I'll wait")).to_be_visible(timeout=BOT_WAIT)
    agent.click("#hand-back")
    _bot_says(customer, "Hello again")


def test_a_signed_in_customer_is_not_asked_for_age_or_username(
    stack: LiveStack, contexts: tuple[BrowserContext, BrowserContext]
) -> None:
    customer_context, _ = contexts
    customer = customer_context.new_page()
    link = stack.signed_in_chat_link("mehmet_77")
    token = link.split("#token=", 1)[1]
    customer.goto(link)
    expect(customer.locator("#chat-status")).to_have_attribute("data-state", "connected", timeout=BOT_WAIT)
    assert "token=" not in customer.url  # taken out of the address bar
    expect(customer.locator("#prechat")).to_be_hidden()  # a signed-in customer gives no pre-chat details
    _say(customer, "I want to talk to a human agent")
    _bot_says(customer, "What is your problem about")  # no age question
    _say(customer, "withdrawl")
    _bot_says(customer, "When did")
    _say(customer, "last friday")
    confirmation = _bot_says(customer, "Is this correct")  # no username question either
    assert "mehmet_77" in confirmation
    _say(customer, "yes")
    number = _ticket_number(_bot_says(customer, "T-"))
    ticket = stack.as_agent("agent_finance", "GET", f"/tickets/{number}")
    assert ticket["summary"]["username"] == "mehmet_77"
    assert ticket["summary"]["age_check"]["method"] == "verified_token"
    for stored in (stack.tracker_db, stack.events_db):  # the token proved who it is and was not kept
        with sqlite3.connect(stored) as db:
            assert not any(token in row[0] for row in db.execute("SELECT data FROM events")), stored
