"""Identity verification: a kind of request, an agent's decision, the
customer's record.

- A ticket becomes a verification request when triage put it on a
  verification topic (``create_handoff``, ``support_rules.verification``) or
  when its agent asks for documents (``request_documents``).
- An agent of the account department, or a supervisor or admin, approves
  or rejects it (``decide``); a rejection names one of the editors' reasons
  (data/verification.yml). Others who can see the ticket get ``403``;
  those who cannot, ``404`` as for any ticket.
- The outcome is kept on the customer's record (``CustomerRecord``), keyed
  by the ticket's username. Only a username proven by the platform's
  signed token (``username_source`` ``verified_token``) makes a record the
  customer's own (``verified_source``): a typed username proves nothing, so
  a decision on such a ticket is kept (agents see it on later tickets,
  marked as typed) but never shown to a customer as theirs
  (``verification_view``) and never overwrites a record a proven ticket
  decided (``409 verified_record``).
- The customer panel shows each verification request where it stands
  (``request_verification``): the decision made on that request, whoever's
  record keeps it, since the request is the customer's own (its
  conversation was proven theirs), and nothing of any other request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, Forbidden, Unprocessable
from handoff.models import Agent, CustomerRecord, Ticket, utcnow
from handoff.repo import accounts as accounts_repo
from handoff.repo import audit as audit_repo
from handoff.repo import customers as customers_repo
from handoff.services.tickets import get_visible_ticket
from handoff.settings import REPO_ROOT
from support_rules.identity import USERNAME_VERIFIED
from support_rules.tickets import ASSIGNED
from support_rules.verification import (
    KIND_VERIFICATION,
    STATUS_APPROVED,
    STATUS_NONE,
    STATUS_REJECTED,
    VerificationTexts,
    load_verification,
    request_step,
    status_after_decision,
    status_after_request,
)

__all__ = [
    "DECIDING_DEPARTMENT",
    "Decision",
    "may_decide",
    "note_verification_request",
    "request_documents",
    "decide",
    "customer_verification",
    "verification_view",
    "request_verification",
]

# the audit action of a decision (``decide``): a request's own decision is
# read back from it when the customer's record has moved on to a later one
DECISION_ACTION = "verification_decision"

# the department whose agents decide on identity verification (data/catalogue.yml)
DECIDING_DEPARTMENT = "account"


@dataclass(frozen=True)
class Decision:
    ticket: Ticket
    record: CustomerRecord
    reason: dict[str, str] | None


def may_decide(agent: Agent) -> bool:
    return agent.sees_all or DECIDING_DEPARTMENT in agent.department_ids


def _proven(ticket: Ticket) -> bool:
    return (ticket.summary or {}).get("username_source") == USERNAME_VERIFIED


async def _record_for(session: AsyncSession, username: str, now: datetime) -> CustomerRecord:
    """The customer's record, locked; created (status none) when missing."""
    record = await customers_repo.get_customer_for_update(session=session, username=username)
    if record is not None:
        return record
    try:
        async with session.begin_nested():
            return await customers_repo.add_customer(
                session=session,
                record=CustomerRecord(
                    username=username, verified_source=False, verification_status=STATUS_NONE, updated_at=now
                ),
            )
    except IntegrityError:  # created at the same moment by another request
        record = await customers_repo.get_customer_for_update(session=session, username=username)
        assert record is not None
        return record


async def note_verification_request(*, session: AsyncSession, ticket: Ticket, now: datetime | None = None) -> None:
    """The ticket is a verification request: its customer's record is
    pending (an approval stands until an agent decides again)."""
    now = now or utcnow()
    ticket.kind = KIND_VERIFICATION
    if not ticket.username:
        return
    record = await _record_for(session, ticket.username, now)
    proven = _proven(ticket)
    if record.verified_source and not proven:
        return  # a typed username does not touch a proven customer's record
    record.verification_status = status_after_request(record.verification_status)
    record.verified_source = record.verified_source or proven
    record.updated_at = now
    await session.flush()


async def request_documents(*, session: AsyncSession, agent: Agent, number: str, now: datetime | None = None) -> Ticket:
    """The ticket's agent asks its customer for documents (the caller sends
    the request: ``CustomerChannel.request_documents``)."""
    now = now or utcnow()
    ticket = await get_visible_ticket(session=session, agent=agent, number=number)
    if ticket.archived_at is not None:
        raise Conflict("ticket is archived and read-only", code="archived")
    if ticket.status != ASSIGNED or ticket.assignee_id != agent.id:
        raise Conflict("ticket is not assigned to you", code="not_assignee")
    await note_verification_request(session=session, ticket=ticket, now=now)
    ticket.updated_at = now
    await _audit(session, agent, "request_documents", ticket, now)
    return ticket


async def decide(
    *,
    session: AsyncSession,
    agent: Agent,
    number: str,
    decision: str,
    reason_id: str | None,
    texts: VerificationTexts,
    now: datetime | None = None,
) -> Decision:
    """Approve or reject a verification request, on the customer's record."""
    now = now or utcnow()
    ticket = await get_visible_ticket(session=session, agent=agent, number=number)
    if not may_decide(agent):
        raise Forbidden("only the account department or a supervisor decides on verification", code="forbidden")
    if ticket.kind != KIND_VERIFICATION:
        raise Conflict("ticket is not a verification request", code="not_verification")
    if ticket.archived_at is not None:
        raise Conflict("ticket is archived and read-only", code="archived")
    status = status_after_decision(decision)
    reason = None
    if status == STATUS_REJECTED:
        if not reason_id:
            raise Unprocessable("a rejection needs a reason_id", code="reason_required")
        reason = texts.reason(reason_id)
        if reason is None:
            raise Unprocessable(f"unknown rejection reason: {reason_id}", code="unknown_reason")
    elif reason_id:
        raise Unprocessable("an approval takes no reason_id", code="reason_not_allowed")
    if not ticket.username:
        raise Conflict("ticket has no username to keep the outcome under", code="no_username")
    record = await _record_for(session, ticket.username, now)
    proven = _proven(ticket)
    if record.verified_source and not proven:
        raise Conflict(
            "this customer's record was decided on a signed-in ticket; decide on one", code="verified_record"
        )
    record.verification_status = status
    record.reason_id = reason_id if reason else None
    record.decided_at = now
    record.decided_by_id = agent.id
    record.decided_by_name = agent.display_name
    record.decided_on_ticket_id = ticket.id
    record.verified_source = proven
    record.updated_at = now
    ticket.updated_at = now
    await session.flush()
    await _audit(session, agent, DECISION_ACTION, ticket, now, decision=decision, reason_id=record.reason_id)
    return Decision(ticket, record, reason)


async def _audit(
    session: AsyncSession, agent: Agent, action: str, ticket: Ticket, now: datetime, **detail: Any
) -> None:
    await audit_repo.add_audit(
        session=session,
        actor=agent.username,
        agent_id=agent.id,
        action=action,
        ticket_id=ticket.id,
        detail={k: v for k, v in detail.items() if v is not None} or None,
        at=now,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def customer_verification(*, session: AsyncSession, ticket: Ticket, texts: VerificationTexts) -> dict[str, Any]:
    """What agents see of the ticket's customer on any ticket: their
    verification status (``none`` without a username or record)."""
    record = None
    if ticket.username:
        record = await customers_repo.get_customer(session=session, username=ticket.username)
    if record is None:
        return {
            "status": STATUS_NONE,
            "reason_id": None,
            "reason": None,
            "decided_at": None,
            "decided_by": None,
            "verified_source": False,
        }
    return {
        "status": record.verification_status,
        "reason_id": record.reason_id,
        "reason": texts.reason(record.reason_id) if record.reason_id else None,
        "decided_at": _iso(record.decided_at),
        "decided_by": record.decided_by_name,
        "verified_source": record.verified_source,
    }


@lru_cache(maxsize=4)
def _texts_at(path: Path) -> VerificationTexts:
    return load_verification(path)


async def verification_view(
    *, session: AsyncSession, username: str, texts: VerificationTexts | None = None
) -> dict[str, Any] | None:
    """The customer panel's view of a signed-in customer's verification:
    ``{status, reason_id, reason: {tr, en} | None, decided_at}``, or None
    when there is no record proven to be theirs (none, or only decisions
    made on tickets whose username was typed)."""
    record = await customers_repo.get_customer(session=session, username=username)
    if record is None or not record.verified_source:
        return None
    texts = texts or _texts_at(REPO_ROOT / "data" / "verification.yml")
    return {
        "status": record.verification_status,
        "reason_id": record.reason_id,
        "reason": texts.reason(record.reason_id) if record.reason_id else None,
        "decided_at": _iso(record.decided_at),
    }


async def _decision_on(
    session: AsyncSession, ticket: Ticket, texts: VerificationTexts
) -> tuple[str | None, str | None, datetime | None]:
    """The last decision made on this ticket: (status, reason id, when), from
    the record while it still holds it, else from the decision's audit entry
    (a later ticket's decision moved the record on); nothing when undecided."""
    record = None
    if ticket.username:
        record = await customers_repo.get_customer(session=session, username=ticket.username)
    decided_here = record is not None and record.decided_on_ticket_id == ticket.id and record.decided_at is not None
    if record is not None and decided_here and record.verification_status in (STATUS_APPROVED, STATUS_REJECTED):
        return record.verification_status, record.reason_id, record.decided_at
    entry = await audit_repo.last_entry(session=session, ticket_id=ticket.id, action=DECISION_ACTION)
    detail = entry.detail if entry is not None and isinstance(entry.detail, dict) else {}
    decision = detail.get("decision")
    if entry is None or not isinstance(decision, str):
        return None, None, None  # undecided, or the entry's detail is gone (retention)
    try:
        status = status_after_decision(decision)
    except ValueError:
        return None, None, None
    reason_id = detail.get("reason_id")
    return status, reason_id if isinstance(reason_id, str) and texts.reason(reason_id) else None, entry.at


async def request_verification(
    *, session: AsyncSession, ticket: Ticket, texts: VerificationTexts | None = None
) -> dict[str, Any] | None:
    """What the customer panel shows of one request of the signed-in
    customer: None for an ordinary support request; for a verification
    request ``{status, reason_id, reason: {tr, en} | None, decided_at,
    documents_needed}``, its status one of ``REQUEST_STEPS``
    (support_rules.verification.request_step). The caller has checked the
    ticket is the customer's own (``Ticket.account_username``)."""
    if ticket.kind != KIND_VERIFICATION:
        return None
    texts = texts or _texts_at(REPO_ROOT / "data" / "verification.yml")
    decided, reason_id, decided_at = await _decision_on(session, ticket, texts)
    last_document_at = await accounts_repo.last_customer_document_at(session=session, ticket_id=ticket.id)
    status = request_step(decided=decided, decided_at=decided_at, last_document_at=last_document_at)
    rejected = status == STATUS_REJECTED
    return {
        "status": status,
        "reason_id": reason_id if rejected else None,
        "reason": texts.reason(reason_id) if rejected and reason_id else None,
        "decided_at": _iso(decided_at) if status == decided else None,
        "documents_needed": [{"id": key, "name": name} for key, name in texts.documents.items()],
    }
