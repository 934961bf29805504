"""The editors' figures (handoff.editor.figures), their SVG charts
(handoff.editor.charts) and their API and Prometheus edges
(handoff.api.metrics), on SQLite and PostgreSQL.

A small week of conversations is laid out by hand, so each figure below can
be checked against a count made by reading it: two ISO weeks, Turkish and
English conversations, one with no language slot in each language and one
in no language at all.
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.editor.charts import CHART_NAMES, Bar, Series, bar_chart, line_chart, load_chart_texts, render_chart
from handoff.editor.figures import figures, window
from handoff.models import ConversationEvent, ConversationLanguage, Ticket, TicketContact
from handoff.services.agents import create_agent
from handoff.settings import REPO_ROOT
from tests.handoff.conftest import Running, Seed, StartApp
from tests.handoff.helpers import PASSWORD, login, make_settings
from tests.handoff.test_openapi import Checker

SVG = "{http://www.w3.org/2000/svg}"
# a Thursday of ISO week 2026-W49; the week before is 2026-W48
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
EVIL = '<script>alert("x")</script> & \x00\x1b'
METRICS_TOKEN = "test-metrics-token"


def _monday(now: datetime) -> datetime:
    start, end, _ = window(1, now)
    return start


def _line(cid: str, kind: str, at: datetime, text: str, **columns: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "event_key": uuid.uuid4().hex,
        "kind": kind,
        "text": text,
        "timestamp": at,
        "created_at": at,
        **columns,
    }


def _ticket(cid: str, at: datetime, *, topic: str, department: str, language: str, channel: str) -> Ticket:
    return Ticket(
        conversation_id=cid,
        idempotency_key=uuid.uuid4().hex,
        channel=channel,
        language=language,
        department_id=department,
        topic_id=topic,
        priority="normal",
        priority_rank=2,
        priority_reason="test",
        summary={},
        status="queued",
        created_at=at,
        updated_at=at,
    )


async def seed_conversations(session: AsyncSession, monday: datetime) -> None:
    """The conversations every check below counts by hand: ``monday`` is the
    current ISO week's, ``prev`` the week before's."""
    prev = monday - timedelta(weeks=1)
    old = monday - timedelta(weeks=10)

    def at(base: datetime, day: int, minute: int) -> datetime:
        return base + timedelta(days=day, hours=10, minutes=minute)

    faq = "faq"
    lines = [
        # tr1 (W-1): an FAQ answer the customer marked as solved; never reached a person
        _line("tr1", "customer", at(prev, 1, 0), "param yatmadı", intent=faq, faq="faq/deposit_delay"),
        _line("tr1", "bot", at(prev, 1, 1), "Yatırımlar ...", response="utter_faq/deposit_delay"),
        _line("tr1", "bot", at(prev, 1, 2), "Çözüldü mü?", response="utter_ask_faq_solved"),
        _line("tr1", "customer", at(prev, 1, 3), "evet", intent="affirm"),
        _line("tr1", "bot", at(prev, 1, 4), "Sevindim", response="utter_faq_solved"),
        # tr2 (W-1): a fallback, an FAQ answer that did not help, a ticket
        _line("tr2", "customer", at(prev, 2, 0), "asdf qwer", intent="nlu_fallback"),
        _line("tr2", "bot", at(prev, 2, 1), "Anlamadım", response="utter_default"),
        _line("tr2", "customer", at(prev, 2, 2), "şifremi unuttum", intent=faq, faq="faq/password_reset"),
        _line("tr2", "bot", at(prev, 2, 3), "Şifre ...", response="utter_faq/password_reset"),
        _line("tr2", "bot", at(prev, 2, 4), "Çözüldü mü?", response="utter_ask_faq_solved"),
        _line("tr2", "customer", at(prev, 2, 5), "hayır", intent="deny"),
        _line("tr2", "bot", at(prev, 2, 6), "Aktarıyorum", response="utter_faq_not_solved"),
        # tr3 (W0): no language slot (Turkish letters), joined tr2's open ticket as a contact
        _line("tr3", "customer", at(monday, 0, 0), "Çekim yapamıyorum", intent="withdrawal_problem"),
        _line("tr3", "customer", at(monday, 0, 1), "zzz", intent="nlu_fallback"),
        # tr4 (W0): two FAQ answers, "solved" after the second counts for it only; a stray second "solved"
        _line("tr4", "customer", at(monday, 1, 0), "bonus nasıl", intent=faq, faq="faq/deposit_delay"),
        _line("tr4", "bot", at(monday, 1, 1), "Yatırımlar ...", response="utter_faq/deposit_delay"),
        _line("tr4", "bot", at(monday, 1, 2), "Bonus ...", response="utter_faq/bonus_rules"),
        _line("tr4", "bot", at(monday, 1, 3), "Sevindim", response="utter_faq_solved"),
        _line("tr4", "bot", at(monday, 1, 4), "Sevindim", response="utter_faq_solved"),
        # bot-only (W0): no customer line, not a conversation of the figures
        _line("tr5", "bot", at(monday, 1, 10), "Merhaba", response="utter_greet"),
        # en1 (W-1): a fallback, contained
        _line("en1", "customer", at(prev, 3, 0), "hello i need help", intent="greet"),
        _line("en1", "bot", at(prev, 3, 1), "Hi", response="utter_greet"),
        _line("en1", "customer", at(prev, 3, 2), "blah", intent="nlu_fallback"),
        # en2 (W0): an FAQ answer that did not help, then a ticket
        _line("en2", "customer", at(monday, 2, 0), "my deposit is missing", intent=faq, faq="faq/deposit_delay"),
        _line("en2", "bot", at(monday, 2, 1), "Deposits ...", response="utter_faq/deposit_delay"),
        _line("en2", "bot", at(monday, 2, 2), "Solved?", response="utter_ask_faq_solved"),
        _line("en2", "customer", at(monday, 2, 3), "no", intent="deny"),
        # en3 (W0): no language slot, English words; contained
        _line("en3", "customer", at(monday, 3, 0), "I cannot log in to my account", intent="login_problem"),
        # x1 (W0): no slot and no language in it
        _line("x1", "customer", at(monday, 3, 5), "12345", intent="nlu_fallback"),
        # long ago: outside every window
        _line("old1", "customer", at(old, 0, 0), "merhaba", intent="greet"),
        # an agent's line and a notice are not the bot's
        _line("en2", "agent", at(monday, 2, 10), "Hello, I am Ayşe"),
        _line("en2", "notice", at(monday, 2, 11), "Ayşe joined"),
    ]
    await session.execute(insert(ConversationEvent), lines)
    for cid, language in (("tr1", "tr"), ("tr2", "tr"), ("tr4", "tr"), ("tr5", "tr"), ("en1", "en"), ("en2", "en")):
        session.add(ConversationLanguage(conversation_id=cid, language=language, updated_at=prev))
    tr2 = _ticket("tr2", at(prev, 2, 7), topic="password", department="account", language="tr", channel="socketio")
    en2 = _ticket("en2", at(monday, 2, 4), topic="deposit", department="finance", language="en", channel="rest")
    form = _ticket("form-1", at(monday, 2, 5), topic="deposit", department="finance", language="tr", channel="form")
    stale = _ticket("old1", at(old, 0, 5), topic="login", department="technical", language="tr", channel="socketio")
    session.add_all([tr2, en2, form, stale])
    await session.flush()
    session.add(TicketContact(ticket_id=tr2.id, channel="chat", conversation_id="tr3", created_at=at(monday, 0, 2)))


def _week(**values: Any) -> dict[str, Any]:
    """One period's figures; ratios from the counts."""

    def ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    out = {
        "conversations": 0,
        "contained": 0,
        "customer_lines": 0,
        "fallback_lines": 0,
        "faq_answers": 0,
        "faq_solved": 0,
        "handoffs": 0,
        **values,
    }
    out["containment"] = ratio(out["contained"], out["conversations"])
    out["fallback_rate"] = ratio(out["fallback_lines"], out["customer_lines"])
    out["deflection"] = ratio(out["faq_solved"], out["faq_answers"])
    return out


def _block(found: dict[str, Any], language: str) -> dict[str, Any]:
    return next(b for b in found["languages"] if b["language"] == language)


def _strip(period: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in period.items() if k != "week"}


async def test_every_figure_by_hand(sessionmaker: async_sessionmaker[AsyncSession], seed: Seed) -> None:
    async with sessionmaker() as session, session.begin():
        await seed_conversations(session, _monday(NOW))
    async with sessionmaker() as session:
        found = await figures(session=session, weeks=2, now=NOW, top_groups=[{"label": EVIL, "count": 3, "x": 1}])
    assert found["weeks"] == ["2026-W48", "2026-W49"]
    assert (found["start"], found["end"]) == ("2026-11-23T00:00:00+00:00", "2026-12-07T00:00:00+00:00")
    assert [b["language"] for b in found["languages"]] == ["tr", "en", "unknown"]

    tr = _block(found, "tr")
    assert [w["week"] for w in tr["weeks"]] == found["weeks"]
    # W48: tr1 contained, tr2 handed off; 5 customer lines, 1 fallback; 2 FAQ answers, 1 solved; tr2's ticket
    tr_w48 = _week(conversations=2, contained=1, customer_lines=5, fallback_lines=1, faq_answers=2, faq_solved=1)
    tr_w48["handoffs"] = 1
    # W49: tr3 (guessed Turkish, joined a ticket) and tr4 (contained); the form request is no handoff
    tr_w49 = _week(conversations=2, contained=1, customer_lines=3, fallback_lines=1, faq_answers=2, faq_solved=1)
    assert [_strip(w) for w in tr["weeks"]] == [tr_w48, tr_w49]
    assert tr["total"] == _week(
        conversations=4, contained=2, customer_lines=8, fallback_lines=2, faq_answers=4, faq_solved=2, handoffs=1
    )
    assert tr["total"]["fallback_rate"] == 0.25 and tr_w49["fallback_rate"] == 0.3333
    assert tr["faqs"] == [
        {"faq": "deposit_delay", "answers": 2, "solved": 1, "rate": 0.5},
        {"faq": "bonus_rules", "answers": 1, "solved": 1, "rate": 1.0},
        {"faq": "password_reset", "answers": 1, "solved": 0, "rate": 0.0},
    ]
    assert tr["handoffs"] == {
        "total": 1,
        "by_topic": [{"id": "password", "count": 1}],
        "by_department": [{"id": "account", "count": 1}],
        "by_route": [{"topic": "password", "department": "account", "count": 1}],
    }

    en = _block(found, "en")
    en_w48 = _week(conversations=1, contained=1, customer_lines=2, fallback_lines=1)
    en_w49 = _week(conversations=2, contained=1, customer_lines=3, faq_answers=1, handoffs=1)
    assert [_strip(w) for w in en["weeks"]] == [en_w48, en_w49]
    assert en_w48["deflection"] is None and en_w49["fallback_rate"] == 0.0
    assert en["total"] == _week(
        conversations=3, contained=2, customer_lines=5, fallback_lines=1, faq_answers=1, handoffs=1
    )
    assert en["total"]["containment"] == 0.6667
    assert en["faqs"] == [{"faq": "deposit_delay", "answers": 1, "solved": 0, "rate": 0.0}]
    assert en["handoffs"]["by_topic"] == [{"id": "deposit", "count": 1}]

    unknown = _block(found, "unknown")
    assert unknown["total"] == _week(conversations=1, contained=1, customer_lines=1, fallback_lines=1)

    assert found["handoffs"]["total"] == 2
    assert found["handoffs"]["by_topic"] == [{"id": "deposit", "count": 1}, {"id": "password", "count": 1}]
    assert found["handoffs"]["by_department"] == [{"id": "account", "count": 1}, {"id": "finance", "count": 1}]
    assert found["top_groups"] == [{"label": EVIL, "count": 3, "language": None}]

    # a window of one week: only W49; nothing at all before the data
    async with sessionmaker() as session:
        one = await figures(session=session, weeks=1, now=NOW)
        empty = await figures(session=session, weeks=1, now=NOW - timedelta(weeks=30))
    assert [_strip(w) for w in _block(one, "tr")["weeks"]] == [tr_w49]
    assert [b["language"] for b in empty["languages"]] == ["tr", "en"]
    assert _block(empty, "tr")["total"] == _week() and empty["top_groups"] == []


async def test_a_hundred_thousand_lines_are_counted_quickly(
    sessionmaker: async_sessionmaker[AsyncSession], seed: Seed, db_url: str
) -> None:
    """No timing assert (a benchmark prints): 10,000 conversations of 10 lines."""
    monday = _monday(NOW)
    rows = []
    for c in range(10_000):
        cid = f"load-{c}"
        base = monday - timedelta(weeks=c % 8) + timedelta(seconds=10 * c)
        for i in range(10):
            kind = "customer" if i % 2 == 0 else "bot"
            response = "utter_faq/deposit_delay" if i == 1 else "utter_faq_solved" if i == 3 and c % 3 else None
            intent = "nlu_fallback" if kind == "customer" and i == 4 else "faq"
            text = "param yatmadı" if c % 10 else "where is my money"
            rows.append(_line(cid, kind, base + timedelta(seconds=i), text, intent=intent, response=response))
    async with sessionmaker() as session, session.begin():
        for chunk in range(0, len(rows), 5_000):
            await session.execute(insert(ConversationEvent), rows[chunk : chunk + 5_000])
        for c in range(0, 10_000, 10):
            if c % 20:
                session.add(ConversationLanguage(conversation_id=f"load-{c}", language="en", updated_at=monday))
    async with sessionmaker() as session:
        started = time.perf_counter()
        found = await figures(session=session, weeks=8, now=NOW)
        took = time.perf_counter() - started
    total = sum(b["total"]["customer_lines"] for b in found["languages"])
    print(f"\nfigures over {len(rows):,} lines ({db_url.split(':')[0]}): {took:.2f} s")
    assert sum(b["total"]["conversations"] for b in found["languages"]) == 10_000
    assert total == 50_000
    assert sum(b["total"]["faq_answers"] for b in found["languages"]) == 10_000


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("width") == "100%" and root.get("viewBox")
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}title")]


def test_charts_are_xml_with_every_label_escaped() -> None:
    weeks = ["2026-W48", "2026-W49"]
    lines = line_chart(
        title=EVIL,
        desc=EVIL,
        weeks=weeks,
        series=[Series(EVIL, [0.5, None]), Series("en", [0.1, 0.2])],
        no_data="none",
    )
    root = _parse(lines)
    assert "<script" not in lines and root.find(f"{SVG}title").text == '<script>alert("x")</script> & '  # type: ignore[union-attr]
    assert any(t.endswith("2026-W48: 50%") for t in _texts(root))
    assert "50%" in _texts(root)  # the axis ends at the first round percent above the largest value
    bars = bar_chart(title="t", desc="d", bars=[Bar(EVIL, 3), Bar("b", 1, note=EVIL)], no_data="none")
    root = _parse(bars)
    assert "<script" not in bars and sum(EVIL[:30] in t for t in _texts(root)) >= 2
    for svg in (
        line_chart(title="t", desc="d", weeks=weeks, series=[Series("tr", [None, None])], no_data="nothing here"),
        bar_chart(title="t", desc="d", bars=[], no_data="nothing here"),
    ):
        assert "nothing here" in _texts(_parse(svg))


async def test_each_chart_of_the_figures_in_both_page_languages(
    sessionmaker: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    async with sessionmaker() as session, session.begin():
        await seed_conversations(session, _monday(NOW))
        # PostgreSQL's text holds no NUL
        session.add(ConversationEvent(**_line("tr1", "bot", NOW, "x", response="utter_faq/" + EVIL.strip("\x00\x1b"))))
    async with sessionmaker() as session:
        found = await figures(session=session, weeks=2, now=NOW)
    texts = load_chart_texts(REPO_ROOT / "data" / "figures.yml")
    for name in CHART_NAMES:
        for ui in ("tr", "en"):
            for language in (None, "tr", "en"):
                root = _parse(render_chart(name, found, texts, language=language, ui=ui))
                assert texts["charts"][name]["title"][ui] == root.find(f"{SVG}title").text  # type: ignore[union-attr]
    tr_lines = _texts(_parse(render_chart("containment.svg", found, texts, language=None, ui="tr")))
    assert "Türkçe" in tr_lines and "İngilizce" in tr_lines
    deflection = _texts(_parse(render_chart("deflection.svg", found, texts, language="tr", ui="en")))
    assert "100% (1 of 1)" in deflection and any(EVIL[:20] in t for t in deflection)
    handoffs = _texts(_parse(render_chart("handoffs.svg", found, texts, language=None, ui="en")))
    assert "password" in handoffs and "deposit" in handoffs


async def _editor(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await create_agent(session=session, username="ed", password=PASSWORD, display_name="Eda Editor", role="editor")
        await seed_conversations(session, _monday(datetime.now(timezone.utc)))


async def test_figures_and_charts_are_for_editors_and_supervisors(server: Running, client: httpx.AsyncClient) -> None:
    await _editor(server.app.ctx.sessionmaker)
    check = Checker(client, (await client.get("/api/v1/openapi.json")).json())
    figures_path = "/api/v1/editor/figures"
    assert (await check("GET", figures_path))["error"]["code"] == "unauthorized"
    agent, editor, boss = [await login(client, name) for name in ("fin", "ed", "boss")]
    assert (await check("GET", figures_path, headers=agent))["error"]["code"] == "forbidden"
    found = await check("GET", figures_path, headers=editor, params={"weeks": "2"})
    assert _block(found, "tr")["total"]["conversations"] == 4 and _block(found, "en")["total"]["contained"] == 2
    assert len((await check("GET", figures_path, headers=boss))["weeks"]) == 8
    # the review inbox's groups: the fallbacks and the FAQ answers that did not help
    groups = found["top_groups"]
    assert groups and {g["language"] for g in groups} <= {"tr", "en", None}
    assert all(g["count"] >= 1 and g["label"] for g in groups)
    for weeks in ("0", "53", "many"):
        await check("GET", figures_path, headers=editor, params={"weeks": weeks})
    assert check.statuses == {200, 400, 401, 403}
    # editors may not use the agents' APIs
    assert (await client.get("/api/v1/queue", headers=editor)).status_code == 403

    chart = "/api/v1/editor/charts/containment.svg"
    assert (await client.get(chart)).status_code == 401
    assert (await client.get(chart, headers=agent)).status_code == 403
    for name in CHART_NAMES:
        res = await client.get(f"/api/v1/editor/charts/{name}", headers=editor, params={"language": "tr", "lang": "tr"})
        assert res.status_code == 200, res.text
        assert res.headers["content-type"].startswith("image/svg+xml")
        assert res.headers["cache-control"] == "no-store"
        _parse(res.text)
    missing = await client.get("/api/v1/editor/charts/secret.svg", headers=boss)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "chart_not_found"
    bad = await client.get(chart, headers=editor, params={"language": "de"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_choice"
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert set(doc["paths"]["/api/v1/editor/charts/{name}"]["get"]["responses"]) >= {"200", "401", "403", "404"}
    assert doc["paths"]["/metrics"]["get"]["security"] == [{"metricsToken": []}]


async def test_metrics_are_closed_without_the_setting(client: httpx.AsyncClient) -> None:
    res = await client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert res.status_code == 404 and res.json()["error"]["code"] == "metrics_off"


async def test_metrics_for_prometheus(
    db_url: str, seed: Seed, start_app: StartApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _editor(sessionmaker)
    app = create_app(make_settings(db_url, metrics_token=METRICS_TOKEN), name=f"handoff_{uuid.uuid4().hex[:8]}")
    base_url = (await start_app(app)).base_url
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        editor = await login(client, "ed")
        assert (await client.get("/metrics", headers=editor)).status_code == 401  # a console session is no token
        res = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain") and res.headers["cache-control"] == "no-store"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(res.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("support_conversations", language="tr", week="window") == 4
    assert value("support_conversations", language="tr", week="current") == 2
    assert value("support_containment_ratio", language="en", week="window") == 0.6667
    assert value("support_fallback_ratio", language="tr", week="window") == 0.25
    assert value("support_faq_answers_by_faq", faq="deposit_delay", language="tr") == 2
    assert value("support_faq_solved_by_faq", faq="bonus_rules", language="tr") == 1
    assert value("support_handoffs", topic="password", department="account", language="tr") == 1
    assert value("support_figures_window_weeks") == 8
    assert ("support_faq_deflection_ratio", (("language", "en"), ("week", "window"))) in samples
    # ids only: no customer's words in any label
    labels = {v for _, pairs in samples for _, v in pairs}
    assert not any(" " in v or "<" in v for v in labels)


@pytest.mark.parametrize("weeks", [1, 8, 52])
def test_the_window_is_whole_iso_weeks(weeks: int) -> None:
    start, end, labels = window(weeks, NOW)
    assert start.weekday() == 0 and end.weekday() == 0 and (end - start) == timedelta(weeks=weeks)
    assert labels[-1] == "2026-W49" and len(labels) == weeks == len(set(labels))
