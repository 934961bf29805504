"""The review inbox (handoff.editor.review): which customer lines the bot
handled badly, in realistic Turkish and English transcripts; how similar
lines are grouped (the threshold's calibration pairs are here); and the
inbox read from the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.editor.review import (
    ANSWER_RESPONSES,
    BACK_TO_BOT_RESPONSES,
    FORM_QUESTIONS,
    ITEMS_SHOWN,
    REASONS,
    TO_AGENT_RESPONSES,
    Item,
    Predicted,
    conversation_ending,
    find_items,
    group_items,
    guess_language,
    inbox,
)
from handoff.editor.similarity import COMPARED_CHARS, GROUP_SIMILARITY, similarity, similarity_text
from handoff.models import ConversationEvent, ReviewDecision
from handoff.repo import conversations as conversations_repo
from handoff.services.consumer import parse_event, record_event
from handoff.settings import REPO_ROOT
from support_rules.tickets import ABANDONED, ASSIGNED, RESOLVED
from tests.handoff.conftest import Seed
from tests.handoff.rasa_events import bot_event, open_ticket, user_event

Maker: TypeAlias = async_sessionmaker[AsyncSession]

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)  # a Tuesday of 2026-W48
NOW = T0 + timedelta(days=1)
THRESHOLD = 0.6  # settings.review_confidence's default
_keys = itertools.count()


@dataclass
class Talk:
    """One conversation, a line every 20 seconds from ``start``."""

    conversation_id: str
    start: datetime = T0
    lines: list[ConversationEvent] = field(default_factory=list)

    def _add(self, kind: str, text: str, **values: Any) -> str:
        key = f"{self.conversation_id}-{len(self.lines)}-{next(_keys)}"
        at = self.start + timedelta(seconds=20 * len(self.lines))
        self.lines.append(
            ConversationEvent(
                conversation_id=self.conversation_id, event_key=key, kind=kind, text=text, timestamp=at, **values
            )
        )
        return key

    def customer(self, text: str, intent: str, confidence: float = 0.95, faq: str | None = None) -> str:
        return self._add("customer", text, intent=intent, confidence=confidence, faq=faq)

    def bot(self, text: str, response: str) -> str:
        return self._add("bot", text, response=response)

    def agent(self, text: str) -> str:
        return self._add("agent", text)

    def faq_answer(self, faq: str, text: str = "(the answer)") -> None:
        self.bot(text, f"utter_{faq}")
        self.bot("Bu sorununuzu çözdü mü?", "utter_ask_faq_solved")


def items_of(*talks: Talk, **kw: Any) -> list[Item]:
    kw.setdefault("languages", {t.conversation_id: "tr" for t in talks})
    kw.setdefault("endings", {})
    kw.setdefault("threshold", THRESHOLD)
    kw.setdefault("decided", set())
    kw.setdefault("now", NOW)
    return find_items([line for t in talks for line in t.lines], **kw)


def by_key(items: list[Item]) -> dict[str, str]:
    return {item.key: item.reason for item in items}


def greeted_over_18(talk: Talk) -> None:
    """The opening every conversation has: greeting, age check (the birth date
    reads as a fallback: a form answer, never an item), how can I help."""
    talk.customer("merhaba", "greet", 0.99)
    talk.bot("Merhaba! Size nasıl yardımcı olabilirim?", "utter_greet")
    talk.bot("Doğum tarihinizi yazar mısınız?", "utter_ask_birth_date")
    talk.customer("04.05.1990", "nlu_fallback", 0.45)
    talk.bot("Teşekkürler. Nasıl yardımcı olabilirim?", "utter_how_can_i_help")


# --- the reasons ------------------------------------------------------------------


def test_a_fallback_is_an_item_with_its_context_and_prediction() -> None:
    talk = Talk("tr-fallback")
    greeted_over_18(talk)
    key = talk.customer("kuponum yarım kaldı neden", "nlu_fallback", 0.45)
    talk.bot("Tam anlayamadım, başka bir şekilde yazar mısınız?", "utter_please_rephrase")
    talk.customer("kupon yarım kaldı", "report_problem", 0.81)
    talk.bot("Konu nedir?", "utter_ask_topic")
    [item] = items_of(talk)
    assert (item.key, item.reason, item.text, item.language) == (key, "fallback", "kuponum yarım kaldı neden", "tr")
    assert item.predicted == Predicted("nlu_fallback", None, 0.45)
    assert [(c.kind, c.text, c.current) for c in item.context] == [
        ("customer", "04.05.1990", False),
        ("bot", "Teşekkürler. Nasıl yardımcı olabilirim?", False),
        ("customer", "kuponum yarım kaldı neden", True),
        ("bot", "Tam anlayamadım, başka bir şekilde yazar mısınız?", False),
        ("customer", "kupon yarım kaldı", False),
    ]
    assert item.as_json()["context"][2] == {
        "kind": "customer",
        "text": "kuponum yarım kaldı neden",
        "at": item.at.isoformat(),
        "current": True,
    }


def test_low_confidence_is_below_the_threshold_only() -> None:
    talk = Talk("tr-low")
    greeted_over_18(talk)
    unsure = talk.customer("çekim limitim ne kadar acaba", "faq", 0.52, faq="faq/withdrawal_limits")
    talk.faq_answer("faq/withdrawal_limits")
    talk.customer("evet", "affirm", 0.97)
    talk.bot("Harika, sevindim!", "utter_faq_solved")
    edge = talk.customer("teşekkürler", "thank", 0.6)  # exactly at the threshold: fine
    assert by_key(items_of(talk)) == {unsure: "low_confidence"}
    assert by_key(items_of(talk, threshold=0.5)) == {}
    assert by_key(items_of(talk, threshold=0.61)) == {unsure: "low_confidence", edge: "low_confidence"}
    [item] = items_of(talk)
    assert item.predicted.as_json() == {"intent": "faq", "faq": "faq/withdrawal_limits", "confidence": 0.52}


def test_out_of_scope() -> None:
    talk = Talk("en-oos")
    talk.customer("hello", "greet")
    talk.bot("Hello! How can I help?", "utter_how_can_i_help")
    key = talk.customer("what time does the match start tonight", "out_of_scope", 0.9)
    talk.bot("I can only help with your account.", "utter_out_of_scope")
    assert by_key(items_of(talk, languages={"en-oos": "en"})) == {key: "out_of_scope"}


def test_no_after_an_faq_answer_makes_the_question_an_item() -> None:
    talk = Talk("en-faq-no")
    talk.customer("hi", "greet")
    talk.bot("Hi! How can I help?", "utter_how_can_i_help")
    question = talk.customer("my withdrawal is still pending", "faq", 0.93, faq="faq/withdrawal_pending")
    talk.faq_answer("faq/withdrawal_pending", "Withdrawals take up to 24 hours.")
    talk.customer("no", "deny", 0.98)
    talk.bot("I'll pass you to an agent.", "utter_faq_not_solved")
    [item] = items_of(talk, languages={"en-faq-no": "en"})
    assert (item.key, item.reason) == (question, "faq_not_solved")
    assert [c.text for c in item.context] == [
        "hi",
        "Hi! How can I help?",
        "my withdrawal is still pending",
        "Withdrawals take up to 24 hours.",
        "Bu sorununuzu çözdü mü?",
    ]


def test_no_after_an_answer_given_once_the_age_check_was_done_finds_the_question() -> None:
    """The question came first, then the birth date, then the answer."""
    talk = Talk("tr-faq-after-age")
    question = talk.customer("şifremi unuttum", "faq", 0.91, faq="faq/password_reset")
    talk.bot("Merhaba!", "utter_greet")
    talk.bot("Doğum tarihinizi yazar mısınız?", "utter_ask_birth_date")
    talk.customer("12 mart 1988", "inform", 0.41)  # a form answer: never an item
    talk.faq_answer("faq/password_reset", "Giriş sayfasında 'Şifremi unuttum'a basın.")
    talk.customer("hayır olmadı", "deny", 0.88)
    assert by_key(items_of(talk)) == {question: "faq_not_solved"}


def test_a_person_right_after_an_answer_makes_the_answered_line_an_item() -> None:
    talk = Talk("tr-person")
    greeted_over_18(talk)
    question = talk.customer("bonus çevrim şartı ne", "faq", 0.88, faq="faq/promotion_terms")
    talk.faq_answer("faq/promotion_terms")
    talk.customer("müşteri temsilcisi istiyorum", "request_human", 0.96)
    talk.bot("Konu nedir?", "utter_ask_topic")
    talk.customer("temsilci", "request_human", 0.97)  # after a form question: expected, not an item
    assert by_key(items_of(talk)) == {question: "person_after_answer"}

    bot_question = Talk("en-person-bot")
    bot_question.customer("hello", "greet")
    bot_question.bot("Hello! How can I help?", "utter_how_can_i_help")
    bot_question.customer("are you a robot", "bot_challenge", 0.9)
    bot_question.bot("I am a bot.", "utter_iamabot")
    challenged = bot_question.lines[2].event_key
    bot_question.customer("I want a human", "request_human", 0.95)
    assert by_key(items_of(bot_question)) == {challenged: "person_after_answer"}

    asked_how = Talk("en-person-greeting")
    asked_how.customer("hello", "greet")
    asked_how.bot("Hello! How can I help?", "utter_how_can_i_help")
    asked_how.customer("agent please", "request_human", 0.95)  # "how can I help?" is not an answer
    assert items_of(asked_how) == []


def test_one_item_per_line_under_its_strongest_reason() -> None:
    talk = Talk("tr-strongest")
    greeted_over_18(talk)
    question = talk.customer("hesabım kapandı mı", "faq", 0.5, faq="faq/account_locked")  # unsure too
    talk.faq_answer("faq/account_locked")
    no = talk.customer("hayir", "deny", 0.55)  # itself unsure: an item of its own
    assert by_key(items_of(talk)) == {question: "faq_not_solved", no: "low_confidence"}


def test_lines_to_an_agent_and_triggered_intents_are_not_items() -> None:
    talk = Talk("tr-agent")
    greeted_over_18(talk)
    talk.customer("param yatmadı", "report_problem", 0.9)
    talk.bot("Talebiniz T-000012 numarasıyla alındı.", "utter_handoff_created")
    talk.customer("ne zaman bakacaksınız", "nlu_fallback", 0.45)  # written to the agent
    talk.agent("Merhaba, kontrol ediyorum.")
    talk.customer("tamam bekliyorum abi", "affirm", 0.3)
    talk.customer("EXTERNAL: agent_resolved", "agent_resolved", 1.0)
    talk.bot("Talebiniz çözüldü.", "utter_agent_resolved")
    after_text = "bir de bonusum nerede"
    after = talk.customer(after_text, "nlu_fallback", 0.45)  # the bot's again
    [item] = items_of(talk)
    assert (item.key, item.reason) == (after, "fallback")
    texts = [c.text for c in item.context]
    assert "EXTERNAL: agent_resolved" not in texts
    # nothing the customer and the agent wrote to each other reaches an editor
    assert not {"Merhaba, kontrol ediyorum.", "tamam bekliyorum abi", "ne zaman bakacaksınız"} & set(texts)
    assert [c.text for c in item.context] == [
        "Talebiniz T-000012 numarasıyla alındı.",
        "Talebiniz çözüldü.",
        after_text,
    ]
    assert item.context[-1].current


def test_endings() -> None:
    talks = {name: Talk(name) for name in ("handed", "abandoned", "bot", "open")}
    for talk in talks.values():
        talk.customer("sdfg sdfg", "nlu_fallback", 0.45)
    talks["open"].start = NOW - timedelta(minutes=5)
    talks["open"].lines[0].timestamp = NOW - timedelta(minutes=5)
    endings = {"handed": RESOLVED, "abandoned": ABANDONED}
    items = items_of(*talks.values(), endings=endings)
    assert {i.conversation_id: i.ending for i in items} == {
        "handed": "handoff",
        "abandoned": "abandoned",
        "bot": "bot",
        "open": "open",
    }
    assert conversation_ending(ASSIGNED, T0, NOW) == "handoff"
    assert conversation_ending(None, NOW - timedelta(minutes=30), NOW) == "open"
    assert conversation_ending(None, NOW - timedelta(minutes=31), NOW) == "bot"


def test_decided_lines_are_left_out() -> None:
    talk = Talk("tr-decided")
    first = talk.customer("kuponum yarım kaldı", "nlu_fallback", 0.45)
    talk.bot("Tam anlayamadım.", "utter_please_rephrase")
    second = talk.customer("kupon yarım", "nlu_fallback", 0.45)
    assert set(by_key(items_of(talk))) == {first, second}
    assert set(by_key(items_of(talk, decided={first}))) == {second}


def test_the_language_is_the_conversations_or_guessed_from_its_lines() -> None:
    tr = Talk("no-slot-tr")
    tr.customer("çekim talebim neden onaylanmadı", "nlu_fallback", 0.45)
    en = Talk("no-slot-en")
    en.customer("why was my withdrawal not approved", "nlu_fallback", 0.45)
    unknown = Talk("no-slot-none")
    unknown.customer("04.05.1990", "nlu_fallback", 0.45)
    told = Talk("slot-en")
    told.customer("çekim talebim", "nlu_fallback", 0.45)
    items = items_of(tr, en, unknown, told, languages={"slot-en": "en"})
    assert {i.conversation_id: i.language for i in items} == {
        "no-slot-tr": "tr",
        "no-slot-en": "en",
        "no-slot-none": None,
        "slot-en": "en",
    }
    assert guess_language(["merhaba", "my deposit is missing", "hesabım kilitlendi"]) == "tr"
    assert guess_language(["04.05.1990", "musteri_42"]) is None


def test_the_response_names_are_the_domains() -> None:
    """The names the inbox reads bot lines by exist in the responses (a
    rename there must show up here)."""
    domain = yaml.safe_load((REPO_ROOT / "domain" / "responses.yml").read_text(encoding="utf-8"))["responses"]
    faqs = yaml.safe_load((REPO_ROOT / "data" / "faq" / "responses.yml").read_text(encoding="utf-8"))["responses"]
    names = ANSWER_RESPONSES | FORM_QUESTIONS | TO_AGENT_RESPONSES | BACK_TO_BOT_RESPONSES | {"utter_ask_faq_solved"}
    assert sorted(names - set(domain)) == []
    assert faqs and all(name.startswith("utter_faq/") for name in faqs)


# --- grouping: the calibration -------------------------------------------------------

# same meaning: typos, no Turkish letters, punctuation, a few extra words, numbers, masked secrets
SAME = [
    ("şifremi unuttum", "sifremi unutum"),
    ("şifremi unuttum", "Şifremi unuttum!!"),
    ("şifremi unuttum", "sifremi unuttum yardim edin"),
    ("param hesabıma yansımadı", "param hesabima yansimadi hala"),
    ("para çekme talebim hala beklemede", "para cekme talebim hala beklemde"),
    ("hesabım kilitlendi", "hesabim kilitlendi ne yapmaliyim"),
    ("bonus çevrim şartı ne kadar", "bonus cevrim sarti ne kadr"),
    ("kimlik doğrulama belgem onaylanmadı", "kimlik dogrulama belgem onaylanmadi neden"),
    ("çekim talebim neden onaylanmadı", "cekim talebim neden onaylanmadi"),
    ("hesabıma giremiyorum", "hesabıma giremiyom"),
    ("iki adımlı doğrulama kodu gelmiyor", "iki adimli dogrulama kodu gelmiyo"),
    ("yatırdığım para gelmedi", "yatirdigim para hala gelmedi"),
    ("bahis kuponum iptal oldu", "bahis kuponum iptal olmuş"),
    ("500 TL yatırdım gelmedi", "1000 tl yatirdim gelmedi"),
    ("kartım **** **** **** 1111 ile yatırım olmadı", "kartim **** **** **** 4242 ile yatirim olmadi"),
    ("I forgot my password", "i forgot my pasword"),
    ("I forgot my password", "forgot my password!!"),
    ("my withdrawal is still pending", "my withdrawl is still pending??"),
    ("why is my account locked", "why is my acount locked"),
    ("the app keeps crashing on my phone", "app keeps crashing on my phone"),
    ("my deposit did not arrive", "my deposit didnt arrive"),
    ("I can't log in to my account", "i cant login to my account"),
    ("I want to talk to a human", "i want to talk to a human please"),
]
# different meaning, however many words they share
DIFFERENT = [
    ("şifremi unuttum", "şifremi değiştirmek istiyorum"),
    ("hesabım kilitlendi", "hesabımı kapatmak istiyorum"),
    ("hesabım kilitlendi", "hesabım"),
    ("para yatırdım gelmedi", "para çekme limitim ne kadar"),
    ("para çekme talebim hala beklemede", "para yatırma talebim onaylanmadı"),
    ("bonus şartları neler", "bonusum silindi"),
    ("yatırdığım para gelmedi", "çektiğim para gelmedi"),
    ("canlı destek istiyorum", "canlı bahis istiyorum"),
    ("hesabıma giremiyorum", "hesabıma para yatıramıyorum"),
    ("merhaba", "merhaba şifremi unuttum"),
    ("how do I close my account", "how do I verify my account"),
    ("my withdrawal is still pending", "my deposit is still missing"),
    ("my deposit did not arrive", "my withdrawal did not arrive"),
    ("I forgot my password", "I forgot my username"),
    ("I can't log in to my account", "I can't delete my account"),
    ("where is my bonus", "where is my money"),
    ("app", "the app keeps crashing on my phone"),
    ("hello", "hello my deposit is missing"),
]


def test_the_grouping_threshold_separates_the_calibration_pairs() -> None:
    same = sorted((similarity(a, b), b) for a, b in SAME)
    different = sorted((similarity(a, b), b) for a, b in DIFFERENT)
    print(f"\nsame meaning, lowest: {same[:3]}\ndifferent, highest: {different[-3:]}")
    assert [pair for pair in same if pair[0] < GROUP_SIMILARITY] == []
    assert [pair for pair in different if pair[0] >= GROUP_SIMILARITY] == []


def test_the_normalised_text() -> None:
    assert similarity_text("  ŞİFREMİ   unuttum!! ") == "sifremi unuttum"
    assert similarity_text("Kartım **** **** **** 1111, SKT **/** ve şifre ******") == "kartim skt ve sifre"
    assert similarity_text("TR33 **** **** 1326 hesabıma 250,50 TL") == "hesabima 0 0 tl"
    assert similarity_text("can’t log-in") == "cant login"
    assert len(similarity_text("para " * 20_000)) < COMPARED_CHARS  # a 100 KB paste: its beginning


# --- grouping: the groups -------------------------------------------------------------


FALLBACK_PREDICTED = Predicted("nlu_fallback", None, 0.45)


def item(
    key: str,
    text: str,
    *,
    at: datetime = T0,
    conversation: str | None = None,
    language: str | None = "tr",
    reason: str = "fallback",
    predicted: Predicted = FALLBACK_PREDICTED,
) -> Item:
    return Item(
        key=key,
        conversation_id=conversation or f"conv-{key}",
        text=text,
        language=language,
        reason=reason,
        at=at,
        predicted=predicted,
        context=(),
        ending="bot",
    )


def test_similar_messages_group_and_unrelated_ones_do_not() -> None:
    week = timedelta(days=7)
    items = [
        item(
            "a1",
            "şifremi unuttum",
            at=T0 + timedelta(hours=1),
            reason="low_confidence",
            predicted=Predicted("faq", "faq/login_problem", 0.5),
        ),
        item("a2", "sifremi unuttum", at=T0 + timedelta(hours=2), conversation="same-customer"),
        item("a3", "Şifremi unutum!!", at=T0 + week, conversation="same-customer"),
        item(
            "a4",
            "sifremi unuttum yardim edin",
            at=T0 + 2 * week,
            reason="faq_not_solved",
            predicted=Predicted("faq", "faq/login_problem", 0.7),
        ),
        item("a5", "sifremi unuttum", at=T0 + 2 * week + timedelta(hours=1)),
        item("b1", "çekim talebim neden onaylanmadı", at=T0),
        item("b2", "cekim talebim neden onaylanmadi", at=T0 + week),
        item("c1", "şifremi değiştirmek istiyorum", at=T0 + 3 * week),
        item("d1", "sifremi unuttum", at=T0 + timedelta(hours=3), language="en"),  # another language
    ]
    groups = group_items(items)
    assert [(g.id, g.count) for g in groups] == [("a1", 5), ("b1", 2), ("c1", 1), ("d1", 1)]
    first = groups[0]
    assert first.label == "sifremi unuttum"  # the most common text
    assert first.conversations == 4
    assert first.weeks == (("2026-W48", 2), ("2026-W49", 1), ("2026-W50", 2))
    assert first.reasons == {
        "fallback": 3,
        "low_confidence": 1,
        "faq_not_solved": 1,
        "person_after_answer": 0,
        "out_of_scope": 0,
    }
    assert first.predicted == Predicted("nlu_fallback", None, 0.45)
    assert [i.key for i in first.items] == ["a5", "a4", "a3", "a2", "a1"]  # newest first
    assert first.as_json()["weeks"] == [
        {"week": "2026-W48", "count": 2},
        {"week": "2026-W49", "count": 1},
        {"week": "2026-W50", "count": 2},
    ]
    assert list(first.as_json()) == [
        "id",
        "label",
        "count",
        "conversations",
        "language",
        "weeks",
        "reasons",
        "predicted",
        "items",
        "keys",
    ]
    assert first.as_json()["keys"] == ["a5", "a4", "a3", "a2", "a1"]


def test_groups_of_equal_size_newest_first_and_the_prediction_most_common() -> None:
    faq = Predicted("faq", "faq/deposit_missing", 0.5)
    groups = group_items(
        [
            item("old", "param yatmadı", at=T0, predicted=faq),
            item(
                "old2",
                "param yatmadi",
                at=T0 + timedelta(minutes=1),
                predicted=Predicted("faq", "faq/deposit_missing", 0.4),
            ),
            item("old3", "param yatmadı", at=T0 + timedelta(minutes=2)),
            item("new", "kuponum yarım kaldı", at=T0 + timedelta(days=2)),
            item("new2", "kuponum yarim kaldi", at=T0 + timedelta(days=2, minutes=1)),
            item("new3", "kuponum yarım kaldı", at=T0 + timedelta(days=2, minutes=2)),
        ]
    )
    assert [g.id for g in groups] == ["new", "old"]
    assert groups[1].predicted == Predicted("faq", "faq/deposit_missing", 0.45)


def test_many_items_group_in_one_pass() -> None:
    """More items than one block of the similarity matrix: variants of a few
    messages across blocks still find their group."""
    base = ["şifremi unuttum", "param hesabıma yansımadı", "bonus çevrim şartı ne kadar", "hesabım kilitlendi"]
    variants = [
        lambda s: s,
        lambda s: similarity_text(s),
        lambda s: s + "!!",
        lambda s: s.upper(),
        lambda s: s[:-1],
    ]
    items = [
        item(f"k{n:04d}", variants[n % len(variants)](base[(n // 5) % len(base)]), at=T0 + timedelta(seconds=n))
        for n in range(1200)
    ]
    items += [item(f"u{n:04d}", f"tamamen farklı bir mesaj numara {'x' * (n % 7)} {n}") for n in range(3)]
    groups = group_items(items)
    assert sorted(g.count for g in groups)[-4:] == [300, 300, 300, 300]
    assert sum(g.count for g in groups) == len(items)


# --- the inbox from the database ---------------------------------------------------------


async def _store(sessionmaker: Maker, *talks: Talk) -> None:
    async with sessionmaker() as session, session.begin():
        for talk in talks:
            for line in talk.lines:
                await conversations_repo.add_event(
                    session=session,
                    conversation_id=line.conversation_id,
                    event_key=line.event_key,
                    kind=line.kind,
                    text=line.text,
                    timestamp=line.timestamp,
                    intent=line.intent,
                    confidence=line.confidence,
                    faq=line.faq,
                    response=line.response,
                )


async def test_the_inbox_reads_transcripts_languages_tickets_and_decisions(sessionmaker: Maker, seed: Seed) -> None:
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=3)
    tr1, tr2, en, handed, old, decided, fine = (
        Talk(name, start + timedelta(minutes=n))
        for n, name in enumerate(("tr-1", "tr-2", "en-1", "tr-handed", "tr-old", "tr-decided", "tr-fine"))
    )
    for talk in (tr1, tr2, handed):
        greeted_over_18(talk)
    q1 = tr1.customer("şifremi unuttum", "faq", 0.91, faq="faq/password_reset")
    tr1.faq_answer("faq/password_reset")
    tr1.customer("hayır", "deny", 0.97)
    q2 = tr2.customer("sifremi unutum", "nlu_fallback", 0.45)
    q_handed = handed.customer("Şifremi unuttum kartım 4111 1111 1111 1111", "nlu_fallback", 0.45)
    handed.bot("Konu nedir?", "utter_ask_topic")
    q_en = en.customer("I forgot my password", "nlu_fallback", 0.45)  # no language slot: guessed
    old.start = now - timedelta(weeks=13)
    old.customer("eski bir mesaj", "nlu_fallback", 0.45)
    d = decided.customer("şifremi unuttum", "nlu_fallback", 0.45)
    fine.customer("şifremi unuttum", "faq", 0.97, faq="faq/password_reset")
    await _store(sessionmaker, tr1, tr2, en, handed, old, decided, fine)
    async with sessionmaker() as session, session.begin():
        for talk in (tr1, tr2, handed, old, decided, fine):
            await conversations_repo.set_language(
                session=session, conversation_id=talk.conversation_id, language="tr", at=start
            )
        session.add(
            ReviewDecision(
                event_key=d,
                conversation_id="tr-decided",
                text="şifremi unuttum",
                language="tr",
                reason="fallback",
                decision="faq",
                target="faq/password_reset",
                editor="ed",
            )
        )
    await open_ticket(sessionmaker, "tr-handed")

    async with sessionmaker() as session:
        answer = await inbox(session=session, threshold=THRESHOLD, now=now)
        only_en = await inbox(session=session, threshold=THRESHOLD, language="en", now=now)
        only_no = await inbox(session=session, threshold=THRESHOLD, reason="faq_not_solved", now=now)
        with pytest.raises(ValueError):
            await inbox(session=session, threshold=THRESHOLD, reason="bad")
    assert answer["total_items"] == 4 and answer["generated_at"] == now.isoformat()
    [tr_group, en_group] = answer["groups"]
    assert tr_group["language"] == "tr" and tr_group["count"] == 3 and tr_group["conversations"] == 3
    assert tr_group["id"] == q1  # the earliest
    assert {i["key"]: (i["reason"], i["ending"]) for i in tr_group["items"]} == {
        q1: ("faq_not_solved", "bot"),
        q2: ("fallback", "bot"),
        q_handed: ("fallback", "handoff"),
    }
    masked = next(i for i in tr_group["items"] if i["key"] == q_handed)
    assert "4111" not in masked["text"] and masked["text"].endswith("1111")  # stored masked
    assert sum(w["count"] for w in tr_group["weeks"]) == 3
    assert set(tr_group["reasons"]) == set(REASONS)
    assert [i["key"] for i in en_group["items"]] == [q_en] and en_group["language"] == "en"
    assert [g["language"] for g in only_en["groups"]] == ["en"] and only_en["total_items"] == 1
    assert only_no["total_items"] == 1 and only_no["groups"][0]["items"][0]["key"] == q1
    context = next(i for i in tr_group["items"] if i["key"] == q1)["context"]
    assert [c["current"] for c in context] == [False, False, True, False, False]


async def test_the_inbox_reads_what_the_consumer_stored_from_rasas_events(sessionmaker: Maker) -> None:
    """Rasa's own events: the FAQ the response selector picked, the bot's
    ``utter_action``, the ``language`` slot."""
    ts = datetime.now(timezone.utc).timestamp() - 3600
    question = user_event("rasa-1", "my withdrawal is still pending", ts, intent="faq", confidence=0.93)
    question["parse_data"]["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/withdrawal_pending", "confidence": 0.9}}
    }
    events = [
        {"sender_id": "rasa-1", "event": "slot", "timestamp": ts - 1, "name": "language", "value": "en"},
        question,
        bot_event(
            "rasa-1", "Withdrawals take up to 24 hours.", ts + 1, {"utter_action": "utter_faq/withdrawal_pending"}
        ),
        bot_event("rasa-1", "Did that solve it?", ts + 2, {"utter_action": "utter_ask_faq_solved"}),
        user_event("rasa-1", "no", ts + 10, intent="deny", confidence=0.97),
    ]
    async with sessionmaker() as session, session.begin():
        for raw in events:
            await record_event(session=session, event=parse_event(raw))
    async with sessionmaker() as session:
        answer = await inbox(session=session, threshold=THRESHOLD)
    [group] = answer["groups"]
    [found] = group["items"]
    assert (found["text"], found["reason"], found["language"], found["ending"]) == (
        "my withdrawal is still pending",
        "faq_not_solved",
        "en",
        "bot",
    )
    assert found["predicted"] == {"intent": "faq", "faq": "faq/withdrawal_pending", "confidence": 0.93}
    assert group["predicted"] == found["predicted"] and group["label"] == "my withdrawal is still pending"


def test_a_big_group_shows_its_newest_items_and_gives_every_key() -> None:
    talks = []
    for n in range(ITEMS_SHOWN + 5):
        talk = Talk(f"big-{n}", start=T0 + timedelta(minutes=n))
        talk.customer("bonusum hesaba gecmedi", "nlu_fallback", 0.3)
        talks.append(talk)
    items = [item for talk in talks for item in items_of(talk)]
    [group] = group_items(items)
    answer = group.as_json()
    assert answer["count"] == ITEMS_SHOWN + 5 and len(answer["items"]) == ITEMS_SHOWN
    assert len(answer["keys"]) == ITEMS_SHOWN + 5 and answer["keys"][:ITEMS_SHOWN] == [
        i["key"] for i in answer["items"]
    ]
