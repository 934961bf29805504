"""What the service does with each event Rasa publishes to its event broker.

Every conversation's customer and bot lines are kept (bot-only ones too);
a customer line of a conversation with an open ticket is also appended to
the ticket, so the owning agent sees it live; a line the customer added in
the panel, shown back in the chat (metadata ``sender: customer``), is the
ticket's already and is not kept again; a customer who cancels
(intent ``cancel``) while their ticket is still queued leaves the queue:
the ticket is closed as ``abandoned`` (``handoff.services.abandon``).
Delivery is at-least-once:
an event's key is derived from the event itself (the same on every broker
and every redelivery), and both the transcript line and the ticket message
are stored once per key. The broker edges live in ``handoff.broker``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.live_bus import LiveUpdate
from handoff.models import Ticket, TicketContact, utcnow
from handoff.repo import conversations as conversations_repo
from handoff.repo import messages as messages_repo
from handoff.services.abandon import CANCELLED, abandon_queued, closed_event
from handoff.services.channel import CUSTOMER_SENDER
from handoff.services.contacts import contact_source_prefix, ticket_of_contact
from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.tickets import QUEUED, is_clear_cancel

__all__ = [
    "MalformedEvent",
    "BrokerEvent",
    "event_key",
    "parse_event",
    "message_source_id",
    "transcript_cutoff",
    "record_event",
    "backfill_ticket",
]

_MAX_CONVERSATION_ID = 255


class MalformedEvent(ValueError):
    """An event that cannot be read (bad JSON, no sender, wrong types): skipped."""


@dataclass(frozen=True)
class BrokerEvent:
    key: str
    conversation_id: str
    name: str
    timestamp: datetime
    kind: str | None = None  # customer | bot | agent | notice; None: not a transcript line
    text: str | None = None
    channel: str | None = None
    intent: str | None = None
    confidence: float | None = None
    faq: str | None = None  # customer lines: the FAQ answer the bot picked ("faq/login_problem")
    response: str | None = None  # bot lines: the response's name ("utter_ask_faq_solved")
    language: str | None = None  # a ``language`` slot event: the conversation's language


def event_key(event: Mapping[str, Any]) -> str:
    """sha256 of the event's canonical JSON: equal for a redelivered event,
    different for two events (their timestamps differ)."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def message_source_id(key: str) -> str:
    """The ticket message ``source_id`` of a broker event (one per ticket)."""
    return f"rasa:{key}"


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "")
    return value if value.strip() else None


def _short(value: Any, length: int) -> str | None:
    return value[:length] if isinstance(value, str) and value else None


def _timestamp(value: Any) -> datetime:
    if value is None:
        return utcnow()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MalformedEvent(f"timestamp is not a number: {value!r}")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEvent(f"timestamp out of range: {value!r}") from exc


def _intent(data: Mapping[str, Any]) -> tuple[str | None, float | None]:
    parse = data.get("parse_data")
    intent = parse.get("intent") if isinstance(parse, dict) else None
    if not isinstance(intent, dict):
        return None, None
    confidence = intent.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not math.isfinite(confidence):
        confidence = None
    return _short(intent.get("name"), 255), None if confidence is None else float(confidence)


def _faq(data: Mapping[str, Any]) -> str | None:
    """The FAQ answer the bot picked: the response selector's full retrieval
    intent (``faq/login_problem``), when the message's intent was ``faq``."""
    parse = data.get("parse_data")
    selector = parse.get("response_selector") if isinstance(parse, dict) else None
    faq = selector.get("faq") if isinstance(selector, dict) else None
    response = faq.get("response") if isinstance(faq, dict) else None
    key = response.get("intent_response_key") if isinstance(response, dict) else None
    return _short(key, 255)


def parse_event(raw: bytes | str | Mapping[str, Any], *, sender_id: str | None = None) -> BrokerEvent:
    """Read one published event; ``sender_id`` is the fallback conversation id
    (the SQL broker also keeps it in a column)."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent("body is not UTF-8") from exc
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise MalformedEvent(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedEvent("not a JSON object")
    data: dict[str, Any] = raw
    name = data.get("event")
    if not isinstance(name, str) or not name:
        raise MalformedEvent("no event type")
    conversation_id = data.get("sender_id") or sender_id
    if not isinstance(conversation_id, str) or not conversation_id:
        raise MalformedEvent("no sender_id")
    if len(conversation_id) > _MAX_CONVERSATION_ID:
        raise MalformedEvent("sender_id too long")
    try:
        key = event_key(data)
    except ValueError as exc:  # e.g. a NaN somewhere inside
        raise MalformedEvent(f"cannot be keyed: {exc}") from exc
    base = BrokerEvent(key=key, conversation_id=conversation_id, name=name, timestamp=_timestamp(data.get("timestamp")))
    if name == "slot" and data.get("name") == "language" and data.get("value") in SUPPORTED_LANGUAGES:
        return _replace(base, language=data["value"])
    text = _text(data.get("text"))
    if text is None:
        return base
    if name == "user":
        intent, confidence = _intent(data)
        channel = _short(data.get("input_channel"), 64)
        faq = _faq(data) if intent == "faq" else None
        return _replace(
            base, kind="customer", text=text, channel=channel, intent=intent, confidence=confidence, faq=faq
        )
    if name == "bot":
        metadata = data.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        if metadata.get("sender") == CUSTOMER_SENDER:
            return base  # the panel's line shown in the chat: the ticket has it
        kind = "agent" if metadata.get("sender") == "agent" else "notice" if metadata.get("kind") == "notice" else "bot"
        response = _short(metadata.get("utter_action"), 255) if kind == "bot" else None
        return _replace(base, kind=kind, text=text, response=response)
    return base


def _replace(event: BrokerEvent, **values: Any) -> BrokerEvent:
    return BrokerEvent(**{**event.__dict__, **values})


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def transcript_cutoff(ticket: Ticket) -> datetime:
    """The moment the ticket's summary covers up to: its last transcript line
    (else the summary's creation, else the ticket's). Customer lines after it
    belong in the ticket; earlier ones are in the summary already."""
    summary = ticket.summary if isinstance(ticket.summary, dict) else {}
    lines = summary.get("transcript")
    if not isinstance(lines, list):
        lines = []
    moments = [m for m in (_parse_iso(line.get("timestamp")) for line in lines if isinstance(line, dict)) if m]
    if moments:
        return max(moments)
    return _parse_iso(summary.get("created_at")) or ticket.created_at


async def _add_customer_line(
    *,
    session: AsyncSession,
    ticket: Ticket,
    event_key: str,
    text: str,
    at: datetime,
    contact: TicketContact | None = None,
) -> bool:
    """Copy one customer line of the transcript into the ticket (once per
    broker event); True when it was not there yet. A line of a conversation
    that joined the ticket (``contact``) carries the contact's prefix and
    channel (handoff.services.contacts)."""
    source_id = message_source_id(event_key)
    return await messages_repo.add_message(
        session=session,
        ticket_id=ticket.id,
        source_id=source_id if contact is None else contact_source_prefix(contact.id) + source_id,
        sender="customer",
        text=text,
        created_at=at,
        channel=None if contact is None else contact.channel,
    )


async def record_event(*, session: AsyncSession, event: BrokerEvent) -> LiveUpdate | None:
    """Store one event (idempotent). Returns the live update to publish once
    the transaction has committed: ``message.new`` when a customer message
    reached a ticket, ``ticket.closed`` when it cancelled a queued one."""
    if event.language is not None:
        await conversations_repo.set_language(
            session=session, conversation_id=event.conversation_id, language=event.language, at=event.timestamp
        )
        return None
    if event.kind is None or event.text is None:
        return None
    await conversations_repo.add_event(
        session=session,
        conversation_id=event.conversation_id,
        event_key=event.key,
        kind=event.kind,
        text=event.text,
        timestamp=event.timestamp,
        channel=event.channel,
        intent=event.intent,
        confidence=event.confidence,
        faq=event.faq,
        response=event.response,
    )
    if event.kind != "customer":
        return None  # agent replies are in the ticket already; the bot is silent while paused
    await conversations_repo.lock_conversation(session=session, conversation_id=event.conversation_id)
    ticket = await conversations_repo.latest_open_ticket(session=session, conversation_id=event.conversation_id)
    contact: TicketContact | None = None
    if ticket is None:
        joined = await ticket_of_contact(session=session, conversation_id=event.conversation_id)
        if joined is None:
            return None
        ticket, contact = joined
    cutoff = transcript_cutoff(ticket) if contact is None else contact.created_at
    if event.timestamp <= cutoff:
        return None
    inserted = await _add_customer_line(
        session=session, ticket=ticket, event_key=event.key, text=event.text, at=event.timestamp, contact=contact
    )
    if not inserted:
        return None
    if (
        is_clear_cancel(event.intent, event.confidence, event.text)
        and ticket.status == QUEUED
        and await abandon_queued(session=session, ticket=ticket, reason=CANCELLED, actor="customer", now=utcnow())
    ):
        return closed_event(ticket, CANCELLED)
    return {
        "type": "message.new",
        "ticket_number": ticket.number,
        "department": ticket.department_id,
        "assignee_id": ticket.assignee_id,
        "sender": "customer",
    }


async def backfill_ticket(*, session: AsyncSession, ticket: Ticket) -> int:
    """Copy the customer lines written after the summary was built (the
    ticket may be created late, from the bot's outbox). Returns how many."""
    await conversations_repo.lock_conversation(session=session, conversation_id=ticket.conversation_id)
    lines = await conversations_repo.customer_events_after(
        session=session, conversation_id=ticket.conversation_id, after=transcript_cutoff(ticket)
    )
    added = 0
    for line in lines:
        added += await _add_customer_line(
            session=session, ticket=ticket, event_key=line.event_key, text=line.text, at=line.timestamp
        )
    return added
