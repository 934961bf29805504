"""Identity verification from the console: the rejection reasons, asking a
customer for documents, approving or rejecting (handoff.services.verification)."""

from __future__ import annotations

import logging

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.bodies import Empty, TicketAnswer, VerificationAnswer, VerificationDecision, VerificationReasons
from handoff.api.common import body, require_agent, transaction
from handoff.api.spec import operation
from handoff.api.tickets import DeliveryFailed, _update
from handoff.mail.serve import wake_mail_worker
from handoff.services import tickets as tickets_svc
from handoff.services import verification as svc
from handoff.services.channel import ChannelError
from handoff.services.mail_replies import notice_by_mail
from support_rules.verification import STATUS_APPROVED, VerificationTexts

bp = Blueprint("verification", url_prefix="/api/v1")
log = logging.getLogger("handoff.api")


def _texts(request: Request) -> VerificationTexts:
    texts: VerificationTexts = request.app.ctx.verification
    return texts


@bp.get("/verification/reasons")
@operation(
    "The reasons an agent may give for rejecting a verification", auth="agent", answers={200: VerificationReasons}
)
async def reasons(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        await require_agent(request, session)
    return json({"reasons": [{"id": key, "name": name} for key, name in _texts(request).reasons.items()]})


@bp.post("/tickets/<number:str>/request-documents")
@operation(
    "Ask the customer for identity documents; the ticket becomes a verification request",
    auth="agent",
    body=Empty,
    body_optional=True,
    answers={200: TicketAnswer},
    errors=(404, 409, 502),
)
async def request_documents(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        body(request, Empty, max_bytes=1024, optional=True)
        ticket = await svc.request_documents(session=session, agent=agent, number=number)
        documents = _texts(request).documents_list(ticket.language)
        text = request.app.ctx.notice_texts.render("documents_requested", ticket.language, documents=documents)
        # by e-mail: the mail's own words (the chat's say "in this chat")
        in_mail = request.app.ctx.mail_texts.render("documents_requested", ticket.language, documents=documents)
        by_mail = await notice_by_mail(session=session, mail=request.app.ctx.reply_by_mail, ticket=ticket, text=in_mail)
    await request.app.ctx.bus.publish(_update("ticket.updated", ticket))
    if by_mail:  # the customer follows the request by e-mail: the relay sends it
        wake_mail_worker(request.app)
        return json(tickets_svc.ticket_json(ticket))
    try:
        await request.app.ctx.channel.request_documents(ticket.conversation_id, text)
    except ChannelError as exc:
        log.warning("documents request for %s not delivered: %s", ticket.number, exc)
        raise DeliveryFailed(
            "the ticket is a verification request, but the customer was not reached; ask again"
        ) from None
    return json(tickets_svc.ticket_json(ticket))


@bp.post("/tickets/<number:str>/verification")
@operation(
    "Approve or reject a verification request (account department, supervisors); the customer is told",
    auth="agent",
    body=VerificationDecision,
    answers={200: VerificationAnswer},
    errors=(400, 403, 404, 409, 422),
)
async def decide(request: Request, number: str) -> HTTPResponse:
    async with transaction(request) as session:
        agent = await require_agent(request, session)
        data = body(request, VerificationDecision, max_bytes=1024)
        decision = await svc.decide(
            session=session,
            agent=agent,
            number=number,
            decision=data.decision,
            reason_id=data.reason_id,
            texts=_texts(request),
        )
        shown = await svc.customer_verification(session=session, ticket=decision.ticket, texts=_texts(request))
        ticket = decision.ticket
        answer = {**tickets_svc.ticket_json(ticket), "customer_verification": shown}
        texts = request.app.ctx.notice_texts
        if decision.record.verification_status == STATUS_APPROVED:
            notice = texts.render("verification_approved", ticket.language)
        else:
            reason = (decision.reason or {}).get(ticket.language) or (decision.reason or {}).get("tr", "")
            notice = texts.render("verification_rejected", ticket.language, reason=reason)
        by_mail = await notice_by_mail(session=session, mail=request.app.ctx.reply_by_mail, ticket=ticket, text=notice)
    await request.app.ctx.bus.publish(_update("ticket.updated", ticket))
    if by_mail:
        wake_mail_worker(request.app)
        return json(answer)
    try:
        await request.app.ctx.channel.notify(ticket.conversation_id, notice)
    except ChannelError as exc:  # the decision stands; the record (and the panel) shows it
        log.warning("verification outcome of %s not told to the customer: %s", ticket.number, exc)
    return json(answer)
