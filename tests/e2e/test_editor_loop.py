"""The editors' loop against the real processes (stack/live.py, stack/editor.py):
Rasa, the action server and the handoff service, on a copy of the project.

In headless Chromium an editor finds a misunderstood Turkish line in the
inbox, assigns it to an FAQ, trains, sees the comparison and publishes; a
new customer writing the same line in the web chat gets that FAQ's answer,
with no restart. Then over the API: a restore brings the old model back
while customers are talking (each of their messages answered once), and a
model trained on worse data is refused.
"""

from __future__ import annotations

import json
import threading
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from stack.editor import (
    EDITOR,
    MISUNDERSTOOD,
    RIGHT_ANSWER_START,
    RIGHT_FAQ,
    WRONG_FAQ,
    EditorClient,
    answers_to,
    editor_env,
    misunderstood_turn,
    project_copy,
    rasa_status,
)
from stack.live import AGENT_PASSWORD, LiveStack

BOT_WAIT = 45_000  # ms
TRAIN_WAIT = 240_000  # ms: a training and its scores, on two busy cores
WRONG_ANSWER_START = "Güncel minimum ve maksimum çekim tutarlarını"  # utter_faq/withdrawal_limits


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_copy(Path(tmp_path_factory.mktemp("editor-project")))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, project: Path) -> Iterator[LiveStack]:
    tmp = Path(tmp_path_factory.mktemp("editor-e2e"))
    running = LiveStack(tmp, extra_env=editor_env(tmp, project))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _chat(page: Page, stack: LiveStack, lines: list[str]) -> None:
    """A signed-in customer (no age question) in the web chat says each line in turn."""
    page.goto(stack.signed_in_chat_link("editor_loop_customer"))
    expect(page.locator("#chat-status")).to_have_attribute("data-state", "connected", timeout=BOT_WAIT)
    for line in lines:
        before = page.locator(".msg.bot").count()
        page.fill("#chat-input", line)
        page.click("#chat-send")
        expect(page.locator(".msg.customer").last).to_contain_text(line)
        expect(page.locator(".msg.bot")).not_to_have_count(before, timeout=BOT_WAIT)


def test_an_editor_turns_a_misunderstood_turkish_line_into_a_published_answer(
    stack: LiveStack, browser: Browser, project: Path
) -> None:
    customer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    misunderstood_turn(stack, "editor-loop-first")  # over REST: the wrong FAQ, then "no"
    assert any(WRONG_ANSWER_START in r for r in answers_to(stack, "editor-loop-before", MISUNDERSTOOD))

    editor = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    editor.goto(f"{stack.handoff_url}/console/editor/")
    editor.fill("#login-username", EDITOR)
    editor.fill("#login-password", AGENT_PASSWORD)
    editor.click("#login-submit")
    group = editor.locator(".inbox-group").filter(has_text=MISUNDERSTOOD).first
    expect(group).to_be_visible(timeout=30_000)
    expect(group).to_contain_text(WRONG_FAQ)
    group.locator("button.decide").first.click()
    editor.select_option("#decision-kind", "faq")
    editor.select_option("#decision-target", RIGHT_FAQ)
    editor.click("#decision-submit")
    expect(editor.locator("#decision-result")).to_contain_text("data/faq/nlu_tr.yml", timeout=60_000)
    examples = yaml.safe_load((project / "data" / "faq" / "nlu_tr.yml").read_text(encoding="utf-8"))["nlu"]
    block = next(item for item in examples if item["intent"] == f"faq/{RIGHT_FAQ}")
    assert f"- {MISUNDERSTOOD}" in block["examples"]

    editor.click("#tab-models")
    editor.click("#train")
    expect(editor.locator("#training-progress")).to_be_visible()
    comparison = editor.locator("#comparison")
    expect(comparison).to_be_visible(timeout=TRAIN_WAIT)
    for held_out in ("tr", "en", "blind_tr", "blind_en"):
        expect(comparison.locator(f'[data-set="{held_out}"]')).to_have_count(1)
    expect(editor.locator("#understood")).to_contain_text(MISUNDERSTOOD)
    editor.click("#publish")
    expect(editor.locator("#live-model")).to_contain_text(EDITOR, timeout=60_000)

    _chat(customer, stack, [MISUNDERSTOOD])
    expect(customer.locator(".msg.bot").filter(has_text=RIGHT_ANSWER_START)).to_be_visible(timeout=BOT_WAIT)
    assert "editor-" in rasa_status(stack)["model_file"]


def test_a_restore_while_customers_talk_answers_each_message_once(stack: LiveStack) -> None:
    editor = EditorClient(stack)
    models = editor.call("GET", "/models")
    previous = next(m for m in models["models"] if m["status"] == "retired")
    replies: dict[str, list[list[str]]] = {}
    errors: list[BaseException] = []
    lines = ["merhaba", "04.05.1990", "şifremi unuttum", "evet", "teşekkürler", "para çekme limitim ne kadar"]

    def customer(name: str) -> None:
        try:
            replies[name] = [stack.say(name, line) for line in lines]
        except BaseException as exc:
            errors.append(exc)

    talkers = [threading.Thread(target=customer, args=(f"inflight-{n}",)) for n in range(4)]
    for t in talkers:
        t.start()
    restored = editor.call("POST", f"/models/{previous['id']}/restore")
    for t in talkers:
        t.join(timeout=120)
    assert not errors, errors
    assert restored["model"]["status"] == "live" and all(r["ok"] for r in restored["replicas"])
    for name in replies:
        assert len(replies[name]) == len(lines)
        assert all(turn for turn in replies[name]), (name, replies[name])  # every message answered
        bot_texts = [e["text"] for e in stack.bot_events(name)]
        assert len(bot_texts) == sum(len(turn) for turn in replies[name]), name  # and only once
    assert any(WRONG_ANSWER_START in r for r in answers_to(stack, "after-restore", MISUNDERSTOOD))


def test_a_model_trained_on_worse_data_is_refused(stack: LiveStack, project: Path) -> None:
    faq_file = project / "data" / "faq" / "nlu_en.yml"
    data = yaml.safe_load(faq_file.read_text(encoding="utf-8"))
    for item in data["nlu"]:  # keep two examples of each English FAQ question
        kept = [line for line in item["examples"].splitlines() if line.strip()][:2]
        item["examples"] = "\n".join(kept) + "\n"
    faq_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    editor = EditorClient(stack)
    model = editor.train_until_ready()
    assert model["status"] == "ready", model
    assert not model["publishable"] and model["refusal"]
    assert any("English" in reason and "F1" in reason for reason in model["refusal"]), model["refusal"]
    worse = [c for c in model["refusal_codes"] if c["code"] == "worse"]  # what the page says in its language
    assert any(c["set"] in ("en", "blind_en") for c in worse), model["refusal_codes"]
    assert all(c["live"] - c["candidate"] > c["margin"] for c in worse)
    with pytest.raises(urllib.error.HTTPError) as refused:
        editor.call("POST", f"/models/{model['id']}/publish")
    assert refused.value.code == 409
    body: dict[str, Any] = json.loads(refused.value.read())
    assert body["error"]["code"] == "worse_model"
    assert "editor-" not in rasa_status(stack)["model_file"]  # the restored model still answers
