"""The review inbox: customer lines the bot handled badly, grouped by meaning.

A customer line is an item when the bot fell back (``nlu_fallback``), was
unsure of it (confidence below the review threshold) or took it for out of
scope, or when the customer's next words say the bot got it wrong:

- ``faq_not_solved``: "no" (``deny``) right after "did that solve it?"
  (``utter_ask_faq_solved``); the item is the line the FAQ answer answered;
- ``person_after_answer``: a request for a person (``request_human``) right
  after one of the bot's answers; the item is the line answered. An answer
  is a response the bot chose from what the customer said
  (:data:`ANSWER_RESPONSES`: an FAQ answer, "I am a bot", "that is out of
  scope", "you are welcome", ...). A question of the age check or the
  triage form, the greeting or "how can I help?" is not one: asking for a
  person then is what the bot expects, not a misunderstanding.

One item per customer line, under its strongest reason (the customer's own
word first, then the bot's doubts: :data:`_STRENGTH`). Left out: the
answers to a form's questions (a birth date, a topic, a username: the form
reads them, not the intent classifier), lines written while an agent has
the conversation, the intents the handoff service triggers, and lines an
editor already decided (``review_decisions``).

Similar items (same meaning, several customers) are grouped within one
language (handoff.editor.similarity).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.editor.similarity import GROUP_SIMILARITY, group_leaders, similarity_text
from handoff.models import ConversationEvent, ConversationLanguage, ReviewDecision, Ticket, TicketContact, utcnow
from support_rules.language_detect import detect_language
from support_rules.tickets import ABANDONED, HANDBACK_INTENTS

__all__ = [
    "FALLBACK",
    "LOW_CONFIDENCE",
    "FAQ_NOT_SOLVED",
    "PERSON_AFTER_ANSWER",
    "OUT_OF_SCOPE",
    "REASONS",
    "ENDINGS",
    "ANSWER_RESPONSES",
    "FORM_QUESTIONS",
    "TO_AGENT_RESPONSES",
    "BACK_TO_BOT_RESPONSES",
    "OPEN_FOR",
    "LineLike",
    "ContextLine",
    "Predicted",
    "Item",
    "Group",
    "find_items",
    "group_items",
    "guess_language",
    "conversation_ending",
    "inbox",
]

FALLBACK = "fallback"
LOW_CONFIDENCE = "low_confidence"
FAQ_NOT_SOLVED = "faq_not_solved"
PERSON_AFTER_ANSWER = "person_after_answer"
OUT_OF_SCOPE = "out_of_scope"
# the order of the API's ``reasons`` tally
REASONS = (FALLBACK, LOW_CONFIDENCE, FAQ_NOT_SOLVED, PERSON_AFTER_ANSWER, OUT_OF_SCOPE)
_STRENGTH = (FAQ_NOT_SOLVED, PERSON_AFTER_ANSWER, FALLBACK, OUT_OF_SCOPE, LOW_CONFIDENCE)
# how a conversation ended; an abandoned one is named after its ticket's status
ENDINGS = ("handoff", "bot", ABANDONED, "open")
# a conversation without a ticket whose last line is older has ended with the bot
OPEN_FOR = timedelta(minutes=30)

# intents of domain/core.yml (nlu_fallback: Rasa's FallbackClassifier)
_FALLBACK_INTENT = "nlu_fallback"
_OUT_OF_SCOPE_INTENT = "out_of_scope"
_DENY_INTENT = "deny"
_REQUEST_HUMAN_INTENT = "request_human"
_FLAGGING_INTENTS = (_FALLBACK_INTENT, _OUT_OF_SCOPE_INTENT, _DENY_INTENT, _REQUEST_HUMAN_INTENT)
# responses of domain/responses.yml and data/faq/responses.yml, as Rasa
# names them in a bot event's ``utter_action`` (ConversationEvent.response)
_ASK_SOLVED = "utter_ask_faq_solved"
_FAQ_ANSWER = "utter_faq/"  # + the FAQ's id: the retrieval intent is "faq/<id>"
ANSWER_RESPONSES = frozenset(
    {"utter_iamabot", "utter_out_of_scope", "utter_you_are_welcome", "utter_goodbye", "utter_faq_solved"}
)
FORM_QUESTIONS = frozenset(
    {
        "utter_ask_birth_date",
        "utter_birth_date_unreadable",
        "utter_birth_date_invalid",
        "utter_birth_date_future",
        "utter_birth_date_implausible",
        "utter_ask_topic",
        "utter_topic_not_understood",
        "utter_choose_topic",
        "utter_ask_transaction_type",
        "utter_transaction_type_not_understood",
        "utter_choose_transaction_type",
        "utter_ask_transaction_date",
        "utter_date_unreadable",
        "utter_date_invalid",
        "utter_date_future",
        "utter_date_too_old",
        "utter_ask_username",
        "utter_username_invalid",
        "utter_ask_ticket_number",
    }
)
TO_AGENT_RESPONSES = frozenset({"utter_handoff_created", "utter_handoff_joined", "utter_handoff_delayed"})
BACK_TO_BOT_RESPONSES = frozenset({"utter_handed_back", "utter_agent_resolved", "utter_request_cancelled"})
# Rasa's text of an intent triggered through its API (the handoff service's hand-backs)
_TRIGGERED_PREFIX = "EXTERNAL: "


class LineLike(Protocol):
    """A transcript line: a :class:`~handoff.models.ConversationEvent` or a row of its columns."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def event_key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def intent(self) -> str | None: ...
    @property
    def confidence(self) -> float | None: ...
    @property
    def faq(self) -> str | None: ...
    @property
    def response(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime: ...


@dataclass(frozen=True)
class ContextLine:
    kind: str
    text: str
    at: datetime
    current: bool

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "at": self.at.isoformat(), "current": self.current}


@dataclass(frozen=True)
class Predicted:
    intent: str | None
    faq: str | None
    confidence: float | None

    def as_json(self) -> dict[str, Any]:
        return {"intent": self.intent, "faq": self.faq, "confidence": self.confidence}


@dataclass(frozen=True)
class Item:
    key: str  # the line's event key (review_decisions.event_key once decided)
    conversation_id: str
    text: str  # masked, as stored
    language: str | None
    reason: str
    at: datetime
    predicted: Predicted
    context: tuple[ContextLine, ...]
    ending: str

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "conversation_id": self.conversation_id,
            "text": self.text,
            "language": self.language,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "predicted": self.predicted.as_json(),
            "context": [line.as_json() for line in self.context],
            "ending": self.ending,
        }


# a group's items the inbox shows with their turns, and the keys it gives
ITEMS_SHOWN = 30
MAX_GROUP_KEYS = 500


@dataclass(frozen=True)
class Group:
    id: str  # the key of its earliest item
    label: str  # its most common text
    language: str | None
    count: int
    conversations: int
    weeks: tuple[tuple[str, int], ...]  # ISO weeks ("2026-W48"), oldest first
    reasons: dict[str, int]
    predicted: Predicted  # the most common prediction, its mean confidence
    items: tuple[Item, ...]  # newest first

    @property
    def newest(self) -> datetime:
        return self.items[0].at

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "count": self.count,
            "conversations": self.conversations,
            "language": self.language,
            "weeks": [{"week": week, "count": count} for week, count in self.weeks],
            "reasons": dict(self.reasons),
            "predicted": self.predicted.as_json(),
            # the newest items with their turns; every item's key (a decision
            # for the whole group), up to what one decision takes
            "items": [item.as_json() for item in self.items[:ITEMS_SHOWN]],
            "keys": [item.key for item in self.items[:MAX_GROUP_KEYS]],
        }


# --- finding the items --------------------------------------------------------


def conversation_ending(ticket_status: str | None, last_at: datetime, now: datetime) -> str:
    """How a conversation ended: ``abandoned`` (its ticket was), ``handoff``
    (it has a ticket), ``bot`` (no ticket, quiet for :data:`OPEN_FOR`), ``open``."""
    if ticket_status == ABANDONED:
        return ABANDONED
    if ticket_status is not None:
        return "handoff"
    return "bot" if now - last_at > OPEN_FOR else "open"


def guess_language(texts: Iterable[str]) -> str | None:
    """The language most of the customer's lines are written in (ties: the
    last one's), for a conversation the bot never set a language on."""
    counts: Counter[str] = Counter()
    last: str | None = None
    for text in texts:
        language = detect_language(text)
        if language is not None:
            counts[language] += 1
            last = language
    if not counts:
        return None
    top = max(counts.values())
    leaders = [language for language, count in counts.items() if count == top]
    return leaders[0] if len(leaders) == 1 else last


def _triggered(line: LineLike) -> bool:
    return line.kind == "customer" and (line.intent in HANDBACK_INTENTS or line.text.startswith(_TRIGGERED_PREFIX))


def _is_answer(response: str | None) -> bool:
    return response is not None and (response.startswith(_FAQ_ANSWER) or response in ANSWER_RESPONSES)


def _visible(lines: Sequence[LineLike]) -> list[tuple[LineLike, bool]]:
    """The conversation's lines without triggered intents, each with whether
    an agent had the conversation then (from the handoff's confirmation to
    the hand-back)."""
    out: list[tuple[LineLike, bool]] = []
    with_agent = False
    for line in lines:
        if _triggered(line):
            with_agent = with_agent and line.intent not in HANDBACK_INTENTS
            continue
        if line.kind == "bot" and line.response in BACK_TO_BOT_RESPONSES:
            with_agent = False
        out.append((line, with_agent))
        if line.kind == "agent" or (line.kind == "bot" and line.response in TO_AGENT_RESPONSES):
            with_agent = True
    return out


def _question_of(entries: list[tuple[LineLike, bool]], answer: int) -> int | None:
    """The customer line the bot line ``answer`` answered: for an FAQ answer
    the latest earlier line the FAQ was picked for (after the age check the
    answer comes a few lines after the question), else the latest earlier line."""
    response = entries[answer][0].response or ""
    faq = response.removeprefix("utter_") if response.startswith(_FAQ_ANSWER) else None
    nearest: int | None = None
    for index in range(answer - 1, -1, -1):
        line, with_agent = entries[index]
        if line.kind != "customer" or with_agent:
            continue
        if faq is None or line.faq == faq:
            return index
        if nearest is None:
            nearest = index
    return nearest


def _reasons(entries: list[tuple[LineLike, bool]], threshold: float) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    turn: list[int] = []  # the bot's lines since the customer's last one
    for index, (line, with_agent) in enumerate(entries):
        if line.kind == "bot":
            turn.append(index)
            continue
        if line.kind != "customer":
            continue
        responses = [entries[i][0].response for i in turn]
        if not with_agent:
            mine: set[str] = set()
            if not (responses and responses[-1] in FORM_QUESTIONS):
                if line.intent == _FALLBACK_INTENT:
                    mine.add(FALLBACK)
                elif line.intent == _OUT_OF_SCOPE_INTENT:
                    mine.add(OUT_OF_SCOPE)
                if line.confidence is not None and line.confidence < threshold:
                    mine.add(LOW_CONFIDENCE)
            if mine:
                found.setdefault(index, set()).update(mine)
            target: int | None = None
            reason = FAQ_NOT_SOLVED
            if line.intent == _DENY_INTENT and _ASK_SOLVED in responses:
                # the FAQ answer comes in the same turn, just before the question
                answered = [i for i in turn if (entries[i][0].response or "").startswith(_FAQ_ANSWER)]
                target = _question_of(entries, answered[-1]) if answered else None
            elif line.intent == _REQUEST_HUMAN_INTENT:
                answers = [i for i in turn if _is_answer(entries[i][0].response)]
                target, reason = (_question_of(entries, answers[-1]) if answers else None), PERSON_AFTER_ANSWER
            if target is not None:
                found.setdefault(target, set()).add(reason)
        turn = []
    return found


def _by_conversation(lines: Iterable[LineLike]) -> dict[str, list[LineLike]]:
    conversations: dict[str, list[LineLike]] = {}
    for line in lines:
        conversations.setdefault(line.conversation_id, []).append(line)
    for conversation in conversations.values():
        conversation.sort(key=lambda line: line.timestamp)  # stable: equal times keep their order
    return conversations


def find_items(
    lines: Iterable[LineLike],
    *,
    languages: Mapping[str, str],
    endings: Mapping[str, str],
    threshold: float,
    decided: Collection[str],
    now: datetime | None = None,
) -> list[Item]:
    """The inbox's items, oldest first. ``lines``: transcript lines (any
    conversations, in order within each); ``languages``: each conversation's
    language (missing: guessed from its customer lines); ``endings``: the
    status of each conversation's latest ticket (support_rules.tickets;
    missing: no ticket); ``threshold``: the review confidence; ``decided``:
    event keys already decided."""
    now = now or utcnow()
    items: list[Item] = []
    for conversation_id, conversation in _by_conversation(lines).items():
        entries = _visible(conversation)
        found = _reasons(entries, threshold)
        found = {index: reasons for index, reasons in found.items() if entries[index][0].event_key not in decided}
        if not found:
            continue
        language = languages.get(conversation_id) or guess_language(
            line.text for line, _ in entries if line.kind == "customer"
        )
        ending = conversation_ending(endings.get(conversation_id), conversation[-1].timestamp, now)
        # the turns around a line are the bot's part of the conversation only:
        # what the customer and an agent wrote to each other is not the editors'
        with_bot = [i for i, (other, with_agent) in enumerate(entries) if not with_agent and other.kind != "agent"]
        for index in sorted(found):
            line = entries[index][0]
            where = with_bot.index(index)
            context = tuple(
                ContextLine(
                    kind=entries[i][0].kind, text=entries[i][0].text, at=entries[i][0].timestamp, current=i == index
                )
                for i in with_bot[max(0, where - 2) : where + 3]
            )
            items.append(
                Item(
                    key=line.event_key,
                    conversation_id=conversation_id,
                    text=line.text,
                    language=language,
                    reason=next(reason for reason in _STRENGTH if reason in found[index]),
                    at=line.timestamp,
                    predicted=Predicted(line.intent, line.faq, line.confidence),
                    context=context,
                    ending=ending,
                )
            )
    items.sort(key=lambda item: (item.at, item.key))
    return items


# --- grouping -----------------------------------------------------------------


def _iso_week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def _group(language: str | None, members: list[Item]) -> Group:
    members = sorted(members, key=lambda item: (item.at, item.key))
    predictions = Counter((item.predicted.intent, item.predicted.faq) for item in members)
    (intent, faq), _ = predictions.most_common(1)[0]
    confidences = [
        item.predicted.confidence
        for item in members
        if (item.predicted.intent, item.predicted.faq) == (intent, faq) and item.predicted.confidence is not None
    ]
    reasons = dict.fromkeys(REASONS, 0)
    for item in members:
        reasons[item.reason] += 1
    return Group(
        id=members[0].key,
        label=Counter(item.text for item in members).most_common(1)[0][0],
        language=language,
        count=len(members),
        conversations=len({item.conversation_id for item in members}),
        weeks=tuple(sorted(Counter(_iso_week(item.at) for item in members).items())),
        reasons=reasons,
        predicted=Predicted(intent, faq, round(sum(confidences) / len(confidences), 3) if confidences else None),
        items=tuple(reversed(members)),
    )


def group_items(items: Iterable[Item], *, threshold: float = GROUP_SIMILARITY) -> list[Group]:
    """Items of the same meaning together, one language at a time; the
    biggest groups first, then the ones seen last."""
    by_language: dict[str | None, list[Item]] = {}
    for item in sorted(items, key=lambda item: (item.at, item.key)):
        by_language.setdefault(item.language, []).append(item)
    groups: list[Group] = []
    for language, members in by_language.items():
        normalised = [similarity_text(item.text) for item in members]
        texts = list(dict.fromkeys(normalised))
        position = {text: index for index, text in enumerate(texts)}
        leader_of = group_leaders(texts, threshold)
        clusters: dict[int, list[Item]] = {}
        for item, text in zip(members, normalised, strict=True):
            clusters.setdefault(leader_of[position[text]], []).append(item)
        groups += [_group(language, cluster) for cluster in clusters.values()]
    groups.sort(key=lambda group: (-group.count, -group.newest.timestamp(), group.id))
    return groups


# --- the inbox from the database ------------------------------------------------


@dataclass(frozen=True)
class _Read:
    lines: list[LineLike]
    languages: dict[str, str]
    endings: dict[str, str]
    decided: set[str]


async def _read(session: AsyncSession, since: datetime, threshold: float) -> _Read:
    """What the inbox reads: the lines since ``since`` of the conversations
    with a customer line that may make an item, their languages, the status
    of their latest ticket (their own or the one they joined) and the lines
    already decided."""
    events = ConversationEvent
    flagged = (
        select(events.conversation_id)
        .where(
            events.timestamp >= since,
            events.kind == "customer",
            or_(events.intent.in_(_FLAGGING_INTENTS), events.confidence < threshold),
        )
        .distinct()
    )
    lines = await session.execute(
        select(
            events.conversation_id,
            events.event_key,
            events.kind,
            events.text,
            events.intent,
            events.confidence,
            events.faq,
            events.response,
            events.timestamp,
        )
        .where(events.conversation_id.in_(flagged), events.timestamp >= since)
        .order_by(events.conversation_id, events.timestamp, events.id)
    )
    languages = await session.execute(
        select(ConversationLanguage.conversation_id, ConversationLanguage.language).where(
            ConversationLanguage.conversation_id.in_(flagged)
        )
    )
    own = await session.execute(
        select(Ticket.conversation_id, Ticket.id, Ticket.status).where(Ticket.conversation_id.in_(flagged))
    )
    joined = await session.execute(
        select(TicketContact.conversation_id, Ticket.id, Ticket.status)
        .join(Ticket, Ticket.id == TicketContact.ticket_id)
        .where(TicketContact.conversation_id.in_(flagged), TicketContact.split_at.is_(None))
    )
    latest: dict[str, tuple[int, str]] = {}
    for conversation_id, ticket_id, status in [*own.tuples(), *joined.tuples()]:
        if conversation_id not in latest or ticket_id > latest[conversation_id][0]:
            latest[conversation_id] = (ticket_id, status)
    decided = await session.execute(select(ReviewDecision.event_key).where(ReviewDecision.conversation_id.in_(flagged)))
    return _Read(
        lines=cast(list[LineLike], lines.all()),
        languages=dict(languages.tuples().all()),
        endings={conversation_id: status for conversation_id, (_, status) in latest.items()},
        decided=set(decided.scalars()),
    )


async def inbox(
    *,
    session: AsyncSession,
    threshold: float,
    language: str | None = None,
    reason: str | None = None,
    since: datetime | None = None,
    limit_groups: int = 200,
    weeks: int = 12,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The inbox as the editors' API answers it (the design's contract): the
    items of the last ``weeks`` weeks (or since ``since``), of one language
    and one reason when given, grouped; the first ``limit_groups`` groups.
    Raises ValueError for a reason it does not know."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}: one of {', '.join(REASONS)}")
    moment = now or utcnow()
    read = await _read(session, since or moment - timedelta(weeks=weeks), threshold)

    def build() -> tuple[int, list[Group]]:
        items = find_items(
            read.lines,
            languages=read.languages,
            endings=read.endings,
            threshold=threshold,
            decided=read.decided,
            now=moment,
        )
        chosen = [
            item
            for item in items
            if (language is None or item.language == language) and (reason is None or item.reason == reason)
        ]
        return len(chosen), group_items(chosen)

    # the language guesses and rapidfuzz take a while on a big inbox: off the event loop
    total, groups = await asyncio.to_thread(build)
    return {
        "generated_at": moment.isoformat(),
        "total_items": total,
        "groups": [group.as_json() for group in groups[:limit_groups]],
    }
