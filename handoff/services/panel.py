"""The customer panel's use cases: sign in with the platform's token, link
the tab's anonymous chat to the account, list the account's requests, read
one, add a message to an open one (its documents:
``handoff.services.panel_documents``).

Access rule: a customer sees the tickets of their own account only
(``Ticket.account_username``, set from a verified token at handoff). Any
other number, malformed, missing or someone else's, answers exactly the
same ``request_not_found``: numbers are sequential, so anything else would
tell which exist. What a customer sees of a request is what they may know:
its topic, department, status and steps, the transcript (masked as stored,
the agents' display names, never their usernames or notes) and its
documents, and where a verification request stands.

Linking (``link_conversation``): a visitor who chatted without signing in
and then opens the panel, signed in, in the same browser tab shows the
chat's conversation id with its secret (issued by the Rasa channel to that
tab only); the conversation's tickets that belong to no account become the
signed-in customer's. A username typed in the chat links nothing, a wrong
secret links nothing, and a ticket already linked keeps its account.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, NotFound, Unauthorized
from handoff.live_bus import LiveUpdate
from handoff.models import Message, Ticket, utcnow
from handoff.panel_session import PanelSession, PanelSessionSigner
from handoff.repo import accounts as accounts_repo
from handoff.repo import audit as audit_repo
from handoff.repo import messages as messages_repo
from handoff.services.panel_documents import request_documents
from handoff.services.panel_timeline import timeline
from handoff.services.queue_positions import QueueRules, place_of
from handoff.services.tickets import message_json
from handoff.services.verification import request_verification
from support_rules.catalogue import Catalogue, Entry
from support_rules.conversations import conversation_ref, secret_matches
from support_rules.customer_token import verify_customer_token
from support_rules.tickets import OPEN_STATUSES, format_ticket_number, parse_ticket_number
from support_rules.verification import VerificationTexts

__all__ = [
    "PANEL_CHANNEL",
    "SignedIn",
    "sign_in",
    "link_conversation",
    "list_requests",
    "read_request",
    "own_request",
    "open_request",
    "add_message",
    "panel_line",
    "message_update",
]

# the channel a customer line written in the panel is marked with
PANEL_CHANNEL = "panel"
# the audit action of a chat linked to an account at sign-in
LINK_ACTION = "panel_link"

log = logging.getLogger("handoff.panel")


def _not_found() -> NotFound:
    return NotFound("no such request", code="request_not_found")


@dataclass(frozen=True)
class SignedIn:
    session: PanelSession
    cookie: str
    language: str | None


def sign_in(*, token: str, secret: str, signer: PanelSessionSigner, max_age_seconds: int, now: float) -> SignedIn:
    """A panel session for the customer the token proves; it ends when the
    token would have expired, or after ``max_age_seconds``, whichever is first."""
    customer = verify_customer_token(token, secret)
    if customer is None or customer.username is None:
        raise Unauthorized("the sign-in link is not valid or has expired", code="invalid_token")
    expires = int(now) + max_age_seconds
    if customer.expires_at is not None:
        expires = min(expires, customer.expires_at)
    session = PanelSession(customer.username, expires)
    return SignedIn(session, signer.issue(session.username, session.expires_at), customer.language)


async def link_conversation(
    *,
    session: AsyncSession,
    username: str,
    conversation_id: str,
    secret: str,
    key: str,
    now: datetime | None = None,
) -> list[str]:
    """The numbers of the conversation's tickets linked to ``username`` now
    (none when the secret does not prove the conversation); each link is
    audit-logged. The caller has verified the customer's token."""
    if not secret_matches(key, conversation_id, secret):
        log.info("panel sign-in of an account: conversation not proven, nothing linked")
        return []
    now = now or utcnow()
    linked = await accounts_repo.link_conversation(session=session, conversation_id=conversation_id, username=username)
    for ticket_id in linked:
        await audit_repo.add_audit(
            session=session,
            actor="customer",
            action=LINK_ACTION,
            ticket_id=ticket_id,
            detail={"account_username": username, "conversation": conversation_ref(conversation_id)},
            at=now,
        )
    return [format_ticket_number(ticket_id) for ticket_id in linked]


def _names(entry: Entry | None, fallback: str) -> dict[str, str]:
    if entry is None:
        return {"tr": fallback, "en": fallback}
    return {"tr": entry.label("tr"), "en": entry.label("en")}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _is_open(ticket: Ticket) -> bool:
    return ticket.status in OPEN_STATUSES and ticket.archived_at is None


def _item(ticket: Ticket, catalogue: Catalogue, last_line_at: datetime | None) -> dict[str, Any]:
    topic = ticket.summary.get("topic") if isinstance(ticket.summary, dict) else None
    written = topic.get("label") if isinstance(topic, dict) else None
    label = written if isinstance(written, str) and written else ticket.topic_id
    updated = max(ticket.updated_at, last_line_at) if last_line_at else ticket.updated_at
    return {
        "number": ticket.number,
        "status": ticket.status,
        "open": _is_open(ticket),
        "archived": ticket.archived_at is not None,
        "topic": {"id": ticket.topic_id, "name": _names(catalogue.topic(ticket.topic_id), label)},
        "department": {
            "id": ticket.department_id,
            "name": _names(catalogue.department(ticket.department_id), ticket.department_id),
        },
        "channel": ticket.channel,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(updated),
    }


async def list_requests(
    *, session: AsyncSession, username: str, catalogue: Catalogue, texts: VerificationTexts | None = None
) -> dict[str, Any]:
    """Open requests first (latest activity first), then closed ones, then the archive."""
    rows = await accounts_repo.account_tickets(session=session, username=username)
    items = [(ticket, _item(ticket, catalogue, last)) for ticket, last in rows]
    for ticket, item in items:
        item["verification"] = await request_verification(session=session, ticket=ticket, texts=texts)
    by_update = sorted(items, key=lambda pair: (pair[1]["updated_at"] or "", pair[0].id), reverse=True)
    return {
        "customer": {"username": username},
        "open": [item for ticket, item in by_update if _is_open(ticket)],
        "closed": [item for ticket, item in by_update if not _is_open(ticket) and ticket.archived_at is None],
        "archived": [item for ticket, item in by_update if ticket.archived_at is not None],
    }


async def own_request(*, session: AsyncSession, username: str, number: str) -> Ticket:
    """One of the account's tickets, or ``request_not_found`` (missing or not theirs alike)."""
    return await _own_ticket(session, username, number)


async def open_request(*, session: AsyncSession, username: str, number: str) -> Ticket:
    """One of the account's tickets that is still open: what a customer may
    add to. A closed or archived one is ``request_closed``."""
    ticket = await _own_ticket(session, username, number)
    if not _is_open(ticket):
        raise Conflict("this request is closed: start a new conversation to write to us", code="request_closed")
    return ticket


async def _own_ticket(session: AsyncSession, username: str, number: str) -> Ticket:
    ticket_id = parse_ticket_number(number)
    ticket = (
        None
        if ticket_id is None
        else await accounts_repo.account_ticket(session=session, username=username, ticket_id=ticket_id)
    )
    if ticket is None:
        raise _not_found()
    return ticket


def panel_line(message: Message, names: dict[int, str] | None = None) -> dict[str, Any]:
    """A transcript line as the customer sees it."""
    names = names or {}
    shown = message_json(message)  # masked as agents see it
    return {
        "id": shown["id"],
        "sender": shown["sender"],
        "text": shown["text"],
        "created_at": shown["created_at"],
        "agent": names.get(message.agent_id) if message.agent_id is not None else None,
        "channel": message.channel,
    }


async def read_request(
    *,
    session: AsyncSession,
    username: str,
    number: str,
    catalogue: Catalogue,
    rules: QueueRules,
    now: datetime | None = None,
    texts: VerificationTexts | None = None,
) -> dict[str, Any]:
    """One of the account's requests: its steps, transcript and documents."""
    ticket = await _own_ticket(session, username, number)
    messages = await messages_repo.list_messages(session=session, ticket_id=ticket.id)
    agent_ids = {m.agent_id for m in messages if m.agent_id is not None}
    if ticket.assignee_id is not None:
        agent_ids.add(ticket.assignee_id)
    names = await accounts_repo.agent_names(session=session, agent_ids=agent_ids)
    place = await place_of(session=session, ticket=ticket, rules=rules, now=now or utcnow())
    steps = timeline(
        ticket,
        last_line=messages[-1] if messages else None,
        agent_name=names.get(ticket.assignee_id) if ticket.assignee_id is not None else None,
        queue_position=place.position if place else None,
        expected_wait_seconds=place.expected_wait_seconds if place else None,
    )
    last_line_at = messages[-1].created_at if messages else None
    return {
        **_item(ticket, catalogue, last_line_at),
        "verification": await request_verification(session=session, ticket=ticket, texts=texts),
        "can_write": _is_open(ticket),
        "timeline": [step.as_json() for step in steps],
        "transcript": [panel_line(m, names) for m in messages],
        "documents": await request_documents(session=session, ticket=ticket),
    }


async def add_message(
    *,
    session: AsyncSession,
    username: str,
    number: str,
    text: str,
    client_id: str | None = None,
    now: datetime | None = None,
) -> tuple[Ticket, Message, bool]:
    """A customer line on an open request, marked as written in the panel:
    the owning agent reads it in the transcript (a queued request's agent
    when they claim it). False when this ``client_id`` was stored before
    (a retried request), so the caller does not announce it twice."""
    now = now or utcnow()
    ticket = await open_request(session=session, username=username, number=number)
    source_id = f"{PANEL_CHANNEL}:{client_id or uuid.uuid4().hex}"
    inserted = await messages_repo.add_message(
        session=session,
        ticket_id=ticket.id,
        source_id=source_id,
        sender="customer",
        text=text,
        created_at=now,
        channel=PANEL_CHANNEL,
    )
    stored = await messages_repo.get_message(session=session, ticket_id=ticket.id, source_id=source_id)
    assert stored is not None
    return ticket, stored, inserted


def message_update(ticket: Ticket) -> LiveUpdate:
    """What the consoles hear of a customer's new line (as from the chat)."""
    return {
        "type": "message.new",
        "ticket_number": ticket.number,
        "department": ticket.department_id,
        "assignee_id": ticket.assignee_id,
        "sender": "customer",
    }
