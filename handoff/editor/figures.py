"""Is the bot getting better? The editors' figures, per ISO week and language.

Definitions (docs/HANDOFF.md, "Editors' figures"):

- a conversation counts in the week of its first customer line in the
  window (a conversation with no customer line does not count);
- containment: the share of those conversations that never reached a
  person: no ticket of the bot's handoff (``tickets.conversation_id``) and
  no chat contact that joined an open ticket (``ticket_contacts``); form and
  e-mail requests are not handoffs;
- fallback rate: customer lines understood as ``nlu_fallback`` over all
  customer lines (each line in its own week);
- FAQ deflection: bot lines with the response ``utter_faq/<id>`` are FAQ
  answers; one is solved when a bot line ``utter_faq_solved`` follows it in
  the conversation before the next FAQ answer (the customer said yes to
  ``utter_ask_faq_solved``);
- handoffs: the bot's tickets created in the window, by topic and by
  department (the ticket's own language).

A conversation's language is the bot's ``language`` slot
(``conversation_languages``); without one it is guessed from its customer
lines as the review inbox guesses it (``handoff.editor.review``), else
``unknown``. The window's
rows are read with plain SELECTs and counted here, which stays portable
(SQLite, PostgreSQL) and fast enough (tests print the time for 100,000 lines).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.editor.review import guess_language
from handoff.models import ConversationEvent, ConversationLanguage, Ticket, TicketContact, utcnow
from handoff.services.contacts import MAIL_CHANNELS
from support_rules.language import SUPPORTED_LANGUAGES

__all__ = [
    "figures",
    "window",
    "week_label",
    "FALLBACK_INTENT",
    "FAQ_ANSWER_PREFIX",
    "FAQ_SOLVED_RESPONSE",
    "UNKNOWN_LANGUAGE",
    "MAX_WEEKS",
]

FALLBACK_INTENT = "nlu_fallback"
FAQ_ANSWER_PREFIX = "utter_faq/"
FAQ_SOLVED_RESPONSE = "utter_faq_solved"
UNKNOWN_LANGUAGE = "unknown"
MAX_WEEKS = 52
LANGUAGES: tuple[str, ...] = tuple(SUPPORTED_LANGUAGES)
_DIGITS = 4
_WEEK_SECONDS = 7 * 24 * 3600


def week_label(moment: datetime) -> str:
    """The ISO week of a UTC moment: ``2026-W48``."""
    year, week, _ = moment.astimezone(timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def window(weeks: int, now: datetime) -> tuple[datetime, datetime, list[str]]:
    """(start, end, week labels oldest first): the ``weeks`` ISO weeks up to
    and including the one of ``now``, Monday 00:00 UTC to Monday 00:00 UTC."""
    today = now.astimezone(timezone.utc).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday - timedelta(weeks=weeks - 1), time.min, tzinfo=timezone.utc)
    end = datetime.combine(monday + timedelta(weeks=1), time.min, tzinfo=timezone.utc)
    return start, end, [week_label(start + timedelta(weeks=i)) for i in range(weeks)]


def _week_index(moment: datetime, start: datetime) -> int:
    return int((moment - start).total_seconds() // _WEEK_SECONDS)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, _DIGITS) if whole else None


@dataclass
class _Tally:
    conversations: int = 0
    contained: int = 0
    customer_lines: int = 0
    fallback_lines: int = 0
    faq_answers: int = 0
    faq_solved: int = 0
    handoffs: int = 0

    def add(self, other: _Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def view(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "contained": self.contained,
            "containment": _ratio(self.contained, self.conversations),
            "customer_lines": self.customer_lines,
            "fallback_lines": self.fallback_lines,
            "fallback_rate": _ratio(self.fallback_lines, self.customer_lines),
            "faq_answers": self.faq_answers,
            "faq_solved": self.faq_solved,
            "deflection": _ratio(self.faq_solved, self.faq_answers),
            "handoffs": self.handoffs,
        }


@dataclass
class _Language:
    weeks: list[_Tally]  # the window's weeks, oldest first
    faqs: dict[str, list[int]] = field(default_factory=dict)  # id -> [answers, solved]
    topics: Counter[str] = field(default_factory=Counter)
    departments: Counter[str] = field(default_factory=Counter)
    routes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def view(self, language: str, labels: Sequence[str]) -> dict[str, Any]:
        total = _Tally()
        for tally in self.weeks:
            total.add(tally)
        faqs = sorted(self.faqs.items(), key=lambda item: (-item[1][0], item[0]))
        return {
            "language": language,
            "weeks": [{"week": label, **tally.view()} for label, tally in zip(labels, self.weeks, strict=True)],
            "total": total.view(),
            "faqs": [
                {"faq": faq, "answers": answers, "solved": solved, "rate": _ratio(solved, answers)}
                for faq, (answers, solved) in faqs
            ],
            "handoffs": _handoffs_view(self.topics, self.departments, self.routes),
        }


def _counted(counter: Counter[str]) -> list[dict[str, Any]]:
    return [{"id": key, "count": n} for key, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]


def _handoffs_view(topics: Counter[str], departments: Counter[str], routes: Counter[tuple[str, str]]) -> dict[str, Any]:
    return {
        "total": sum(topics.values()),
        "by_topic": _counted(topics),
        "by_department": _counted(departments),
        "by_route": [
            {"topic": topic, "department": department, "count": n}
            for (topic, department), n in sorted(routes.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


@dataclass
class _Line:
    kind: str
    intent: str | None
    response: str | None
    week: int  # index in the window


def _top_groups(groups: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The review inbox's groups as the caller passed them: label and count."""
    return [
        {"label": str(g.get("label", "")), "count": int(g.get("count", 0)), "language": g.get("language")}
        for g in groups or ()
    ]


async def figures(
    *,
    session: AsyncSession,
    weeks: int = 8,
    now: datetime | None = None,
    top_groups: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The editors' figures for the ``weeks`` ISO weeks up to ``now``'s
    (oldest first). ``top_groups``: the review inbox's largest groups
    (handoff.editor.review), shown as they come."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be from 1 to {MAX_WEEKS}")
    now = now or utcnow()
    start, end, labels = window(weeks, now)
    events = ConversationEvent.__table__.c
    in_window = (events.timestamp >= start) & (events.timestamp < end)
    rows = await session.execute(
        select(events.conversation_id, events.kind, events.intent, events.response, events.timestamp)
        .where(in_window, events.kind.in_(("customer", "bot")))
        .order_by(events.conversation_id, events.timestamp, events.id)
    )
    conversations: dict[str, list[_Line]] = {}
    for conversation_id, kind, intent, response, at in rows:
        conversations.setdefault(conversation_id, []).append(_Line(kind, intent, response, _week_index(at, start)))
    window_ids = select(events.conversation_id).where(in_window).distinct().scalar_subquery()

    lang = ConversationLanguage.__table__.c
    languages: dict[str, str] = {
        cid: value
        for cid, value in await session.execute(
            select(lang.conversation_id, lang.language).where(lang.conversation_id.in_(window_ids))
        )
        if value in LANGUAGES
    }
    unnamed: dict[str, list[str]] = {}
    for cid, text in await session.execute(
        select(events.conversation_id, events.text)
        .where(in_window, events.kind == "customer", events.conversation_id.not_in(select(lang.conversation_id)))
        .order_by(events.conversation_id, events.timestamp, events.id)
    ):
        unnamed.setdefault(cid, []).append(text)
    for cid, texts in unnamed.items():
        languages.setdefault(cid, guess_language(texts) or UNKNOWN_LANGUAGE)

    tickets = Ticket.__table__.c
    contacts = TicketContact.__table__.c
    handed_off = set(
        (
            await session.execute(
                union(
                    select(tickets.conversation_id).where(
                        tickets.conversation_id.in_(window_ids), tickets.channel.not_in(MAIL_CHANNELS)
                    ),
                    select(contacts.conversation_id).where(
                        contacts.conversation_id.in_(window_ids), contacts.channel.not_in(MAIL_CHANNELS)
                    ),
                )
            )
        ).scalars()
    )

    buckets: dict[str, _Language] = {}

    def bucket(language: str) -> _Language:
        if language not in buckets:
            buckets[language] = _Language([_Tally() for _ in labels])
        return buckets[language]

    for language in LANGUAGES:
        bucket(language)
    for cid, lines in conversations.items():
        _count_conversation(bucket(languages.get(cid, UNKNOWN_LANGUAGE)), lines, cid in handed_off)

    all_topics: Counter[str] = Counter()
    all_departments: Counter[str] = Counter()
    all_routes: Counter[tuple[str, str]] = Counter()
    for language, topic, department, created in await session.execute(
        select(tickets.language, tickets.topic_id, tickets.department_id, tickets.created_at).where(
            tickets.created_at >= start, tickets.created_at < end, tickets.channel.not_in(MAIL_CHANNELS)
        )
    ):
        target = bucket(language if language in LANGUAGES else UNKNOWN_LANGUAGE)
        target.weeks[_week_index(created, start)].handoffs += 1
        target.topics[topic] += 1
        target.departments[department] += 1
        target.routes[(topic, department)] += 1
        all_topics[topic] += 1
        all_departments[department] += 1
        all_routes[(topic, department)] += 1

    return {
        "generated_at": now.isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "weeks": labels,
        "languages": [bucket(language).view(language, labels) for language in buckets],
        "handoffs": _handoffs_view(all_topics, all_departments, all_routes),
        "top_groups": _top_groups(top_groups),
    }


def _count_conversation(target: _Language, lines: Sequence[_Line], handed_off: bool) -> None:
    first_customer: int | None = None
    open_answer: str | None = None  # the FAQ answer a "solved" would be about, and its week
    open_week = 0
    for line in lines:
        tally = target.weeks[line.week]
        if line.kind == "customer":
            first_customer = line.week if first_customer is None else first_customer
            tally.customer_lines += 1
            tally.fallback_lines += line.intent == FALLBACK_INTENT
            continue
        response = line.response or ""
        if response.startswith(FAQ_ANSWER_PREFIX):
            open_answer, open_week = response[len(FAQ_ANSWER_PREFIX) :], line.week
            tally.faq_answers += 1
            target.faqs.setdefault(open_answer, [0, 0])[0] += 1
        elif response == FAQ_SOLVED_RESPONSE and open_answer is not None:
            target.weeks[open_week].faq_solved += 1
            target.faqs[open_answer][1] += 1
            open_answer = None
    if first_customer is not None:
        target.weeks[first_customer].conversations += 1
        target.weeks[first_customer].contained += not handed_off
