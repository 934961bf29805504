"""One request per problem (handoff.services.contacts): a known customer's
second contact on an open request's topic joins it, on any channel; a
supervisor can split a wrongly joined contact back out."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import AuditEntry, Message, Ticket
from handoff.schemas import SummaryValidator
from handoff.services.consumer import BrokerEvent, record_event
from handoff.services.intake import CHANNEL_EMAIL, CHANNEL_FORM, Contact, IntakeRequest, Triage, open_request
from handoff.services.queue_positions import QueueRules
from handoff.settings import REPO_ROOT
from support_rules.identity import USERNAME_TYPED, USERNAME_VERIFIED
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, login


def _verified(conversation_id: str, topic: str = "deposit", username: str = "ayse_k", **kw) -> dict:
    department = {"deposit": "finance", "withdrawal": "finance", "login": "technical"}[topic]
    return summary(
        department,
        conversation_id=conversation_id,
        username=username,
        username_source=USERNAME_VERIFIED,
        topic={"id": topic, "label": topic},
        **kw,
    )


async def _post(client: httpx.AsyncClient, body: dict, key: str = "k1") -> httpx.Response:
    return await client.post("/api/v1/handoffs", content=json.dumps(body), headers=bot_headers(key))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _triage() -> Triage:
    return Triage(
        catalogue_path=REPO_ROOT / "data" / "catalogue.yml",
        validator=SummaryValidator(REPO_ROOT / "schemas" / "handoff_summary.schema.json"),
        queue_rules=QueueRules(),
        username_pattern=r"[A-Za-z][A-Za-z0-9_.]{2,19}",
        max_age_days=180,
        timezone="Europe/Istanbul",
    )


async def test_a_second_chat_of_the_same_account_on_the_same_topic_joins(client: httpx.AsyncClient) -> None:
    first = await _post(client, _verified("tab-1"))
    assert first.status_code == 201 and first.json()["joined"] is False
    number = first.json()["ticket_number"]
    second = await _post(client, _verified("tab-2", description="Hâlâ gelmedi, ikinci kez yazıyorum"))
    assert second.status_code == 200, second.text
    assert second.json()["ticket_number"] == number and second.json()["joined"] is True
    again = await _post(client, _verified("tab-2"))  # the bot's outbox retrying: still the same request
    assert again.json()["ticket_number"] == number and again.json()["joined"] is True
    other_topic = await _post(client, _verified("tab-3", topic="login"))
    assert other_topic.status_code == 201 and other_topic.json()["ticket_number"] != number

    headers = await login(client, "boss")
    detail = (await client.get(f"/api/v1/tickets/{number}", headers=headers)).json()
    joined_lines = [m for m in detail["transcript"] if m["channel"] == "chat"]
    assert joined_lines and {m["sender"] for m in joined_lines} == {"customer", "bot"}
    contacts = (await client.get(f"/api/v1/tickets/{number}/contacts", headers=headers)).json()["contacts"]
    assert [(c["channel"], c["own"]) for c in contacts] == [("socketio", True), ("chat", False)]


async def test_a_typed_username_joins_nothing(client: httpx.AsyncClient) -> None:
    typed = {"username_source": USERNAME_TYPED}
    a = await _post(client, {**_verified("typed-1"), **typed})
    b = await _post(client, {**_verified("typed-2"), **typed})
    assert a.status_code == b.status_code == 201
    assert a.json()["ticket_number"] != b.json()["ticket_number"]


async def test_the_same_email_joins_across_chat_form_and_email(
    sessionmaker: async_sessionmaker[AsyncSession], seed: object
) -> None:
    triage = _triage()
    now = datetime.now(timezone.utc)

    async def intake(
        channel: str, key: str, topic: str, text: str, email: str = "Ayse@Example.com", account: str | None = None
    ):
        request = IntakeRequest(
            contact=Contact(channel=channel, conversation_id=f"{channel}:{key}", email=email, account_username=account),
            language="tr",
            description=text,
            topic_id=topic,
            transaction_type_id="withdrawal" if topic == "withdrawal" else None,
            transaction_date=date.today() - timedelta(days=1),
        )
        async with sessionmaker() as session, session.begin():
            return await open_request(session=session, request=request, triage=triage, now=now)

    # a signed-in customer's form (the account ayse_k) with their address
    form = await intake(CHANNEL_FORM, "p1", "withdrawal", "Çekim talebim 2 gündür beklemede", account="ayse_k")
    mail = await intake(CHANNEL_EMAIL, "m1", "withdrawal", "Hello, my withdrawal is still pending")
    assert form.created and not form.joined
    assert mail.joined and mail.ticket.id == form.ticket.id
    retried = await intake(CHANNEL_FORM, "p1", "withdrawal", "Çekim talebim 2 gündür beklemede", account="ayse_k")
    assert retried.ticket.id == form.ticket.id and not retried.created  # a form posted twice
    elsewhere = await intake(CHANNEL_EMAIL, "m2", "login", "I cannot log in")
    assert elsewhere.created and elsewhere.ticket.id != form.ticket.id
    stranger = await intake(CHANNEL_EMAIL, "m3", "withdrawal", "withdrawal pending", email="someone@else.org")
    assert stranger.created and stranger.ticket.id != form.ticket.id

    # a chat is answered in the chat: its pre-chat e-mail (typed, unproven)
    # joins nothing, or whoever typed an address would read that request's answers
    from handoff.services.handoffs import create_handoff

    typed = summary(
        "finance",
        conversation_id="chat-typed",
        topic={"id": "withdrawal", "label": "Para çekme"},
        contact_email="ayse@example.com",
    )
    async with sessionmaker() as session, session.begin():
        alone = await create_handoff(
            session=session, summary=typed, idempotency_key="k", validator=triage.validator, rules=triage.queue_rules
        )
    assert alone.created and not alone.joined and alone.ticket.id != form.ticket.id
    # the account the platform's token proves is the same customer
    chat = summary(
        "finance",
        conversation_id="chat-x",
        topic={"id": "withdrawal", "label": "Para çekme"},
        username="ayse_k",
        username_source=USERNAME_VERIFIED,
    )
    async with sessionmaker() as session, session.begin():
        joined = await create_handoff(
            session=session, summary=chat, idempotency_key="k", validator=triage.validator, rules=triage.queue_rules
        )
    assert joined.joined and joined.ticket.id == form.ticket.id

    # what the joined chat writes next reaches the request, marked as chat
    async with sessionmaker() as session, session.begin():
        update = await record_event(
            session=session,
            event=BrokerEvent(
                key="e1",
                conversation_id="chat-x",
                name="user",
                timestamp=datetime.now(timezone.utc) + timedelta(seconds=1),
                kind="customer",
                text="Kart numaram 4111 1111 1111 1111",
            ),
        )
    assert update is not None and update["ticket_number"] == form.ticket.number
    async with sessionmaker() as session:
        rows = (await session.execute(select(Message).where(Message.ticket_id == form.ticket.id))).scalars().all()
    channels = [m.channel for m in rows if m.sender == "customer"]
    assert channels.count("email") == 1 and "chat" in channels
    assert not any("4111 1111 1111 1111" in m.text for m in rows)


async def test_a_supervisor_splits_a_wrongly_joined_contact(client: httpx.AsyncClient, server) -> None:
    number = (await _post(client, _verified("own-chat"))).json()["ticket_number"]
    line = {"sender": "customer", "text": "Bu aslında başka bir para yatırma", "timestamp": _now()}
    await _post(client, _verified("other-chat", transcript=[line]))
    boss = await login(client, "boss")
    contacts = (await client.get(f"/api/v1/tickets/{number}/contacts", headers=boss)).json()["contacts"]
    own, joined = contacts
    agent = await login(client, "fin")
    refused = await client.post(f"/api/v1/tickets/{number}/contacts/{joined['id']}/split", headers=agent)
    assert refused.status_code == 403
    assert (await client.post(f"/api/v1/tickets/{number}/contacts/{own['id']}/split", headers=boss)).status_code == 409
    res = await client.post(f"/api/v1/tickets/{number}/contacts/{joined['id']}/split", headers=boss)
    assert res.status_code == 201, res.text
    split = res.json()
    assert split["status"] == "queued" and split["ticket_number"] != number
    assert (
        await client.post(f"/api/v1/tickets/{number}/contacts/{joined['id']}/split", headers=boss)
    ).status_code == 409
    before = (await client.get(f"/api/v1/tickets/{number}", headers=boss)).json()["transcript"]
    after = (await client.get(f"/api/v1/tickets/{split['ticket_number']}", headers=boss)).json()["transcript"]
    assert not any(m["channel"] == "chat" for m in before)
    assert any("başka bir para yatırma" in m["text"] for m in after)
    contacts = (await client.get(f"/api/v1/tickets/{number}/contacts", headers=boss)).json()["contacts"]
    assert contacts[1]["split_to"] == split["ticket_number"] and contacts[1]["split_at"]
    assert (await client.get(f"/api/v1/tickets/{number}/contacts/{joined['id']}/split", headers=boss)).status_code in (
        404,
        405,
    )
    missing = await client.post(f"/api/v1/tickets/{number}/contacts/99999/split", headers=boss)
    assert missing.status_code == 404 and "Traceback" not in missing.text
    sessionmaker = server.app.ctx.sessionmaker
    async with sessionmaker() as session:
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.action.like("split%")))).all()
        tickets = (await session.execute(select(Ticket.conversation_id))).scalars().all()
    assert sorted(a for (a,) in actions) == ["split", "split_from"]
    assert sorted(tickets) == ["other-chat", "own-chat"]


async def test_resolving_a_request_gives_every_joined_chat_back_to_the_bot(client: httpx.AsyncClient, server) -> None:
    number = (await _post(client, _verified("first-tab"))).json()["ticket_number"]
    assert (await _post(client, _verified("second-tab"))).json()["joined"] is True
    agent = await login(client, "fin")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=agent)).status_code == 200
    res = await client.post(f"/api/v1/tickets/{number}/resolve", json={"note": "iade edildi"}, headers=agent)
    assert res.status_code == 200, res.text
    given_back = {conversation for conversation, _ in server.channel.given_back}
    assert given_back == {"first-tab", "second-tab"}
    assert server.channel.resolved == ["first-tab", "second-tab"]


async def test_a_joined_chat_may_ask_for_its_request_and_no_one_else_may(client: httpx.AsyncClient) -> None:
    from tests.handoff.helpers import status_headers

    number = (await _post(client, _verified("signed-1"))).json()["ticket_number"]
    assert (await _post(client, _verified("signed-2"))).json()["joined"] is True
    own = await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("signed-2"))
    assert own.status_code == 200 and own.json()["ticket_number"] == number
    stranger = await client.get(f"/api/v1/tickets/{number}/status", headers=status_headers("anon-3"))
    assert stranger.status_code == 404


async def test_a_rolled_back_intake_leaves_no_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], seed: object
) -> None:
    """The ticket's savepoint is inside the caller's transaction on both
    backends: a failure after it (a mail that could not be stored) keeps
    nothing, so the sender's retry is the first attempt again."""
    request = IntakeRequest(
        contact=Contact(channel=CHANNEL_EMAIL, conversation_id="email:rollback", email="x@example.com"),
        language="en",
        description="my withdrawal is pending",
        topic_id="withdrawal",
    )

    class Boom(Exception):
        pass

    try:
        async with sessionmaker() as session, session.begin():
            await open_request(session=session, request=request, triage=_triage())
            raise Boom
    except Boom:
        pass
    async with sessionmaker() as session:
        assert (await session.execute(select(Ticket.id))).scalars().all() == []


async def test_a_reply_goes_to_the_joined_chat_the_customer_wrote_from_last(client: httpx.AsyncClient, server) -> None:
    """A request a signed-in customer sent by the form, joined by their chat:
    the agent's answer reaches the chat they are in, not their mailbox."""
    request = IntakeRequest(
        contact=Contact(
            channel=CHANNEL_FORM, conversation_id="form:first", email="ayse@example.com", account_username="ayse_k"
        ),
        language="tr",
        description="Çekim talebim bekliyor",
        topic_id="withdrawal",
    )
    async with server.app.ctx.sessionmaker() as session, session.begin():
        number = (await open_request(session=session, request=request, triage=server.app.ctx.triage)).ticket.number
    chat = _verified("chat-now", topic="withdrawal")
    assert (await _post(client, chat)).json() == {**(await _post(client, chat)).json(), "ticket_number": number}
    agent = await login(client, "fin")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=agent)).status_code == 200
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Merhaba, bakıyorum."}, headers=agent)
    assert res.status_code == 201, res.text
    assert res.json()["delivered"] is True and res.json()["channel"] is None
    assert [m.conversation_id for m in server.channel.sent] == ["chat-now"]


async def test_a_reply_goes_back_to_the_own_chat_when_the_customer_wrote_there_last(
    client: httpx.AsyncClient, server
) -> None:
    number = (await _post(client, _verified("own-tab"))).json()["ticket_number"]
    assert (await _post(client, _verified("joined-tab"))).json()["joined"] is True
    async with server.app.ctx.sessionmaker() as session, session.begin():  # then she writes in her own chat
        await record_event(
            session=session,
            event=BrokerEvent(
                key="own-later",
                conversation_id="own-tab",
                name="user",
                timestamp=datetime.now(timezone.utc) + timedelta(seconds=5),
                kind="customer",
                text="Buradayım",
            ),
        )
    agent = await login(client, "fin")
    assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=agent)).status_code == 200
    res = await client.post(f"/api/v1/tickets/{number}/reply", json={"text": "Merhaba"}, headers=agent)
    assert res.status_code == 201, res.text
    assert [m.conversation_id for m in server.channel.sent] == ["own-tab"]


async def test_a_joined_chat_with_another_problem_opens_a_request_of_its_own(client: httpx.AsyncClient) -> None:
    number = (await _post(client, _verified("tab-a"))).json()["ticket_number"]
    assert (await _post(client, _verified("tab-b"))).json()["joined"] is True
    later = await _post(client, _verified("tab-b", topic="login"), key="k2")  # the same chat, another problem
    assert later.status_code == 201 and later.json()["joined"] is False and later.json()["ticket_number"] != number


async def test_a_mail_split_off_an_accounts_request_is_not_that_accounts(client: httpx.AsyncClient, server) -> None:
    """Joined by its address (which anyone may write from), a mail split off
    a signed-in customer's request belongs to no account and carries only
    its own words."""
    triage = server.app.ctx.triage

    async def intake(contact: Contact, text: str):
        request = IntakeRequest(contact=contact, language="tr", description=text, topic_id="withdrawal")
        async with server.app.ctx.sessionmaker() as session, session.begin():
            return await open_request(session=session, request=request, triage=triage)

    own = await intake(
        Contact(channel=CHANNEL_FORM, conversation_id="form:acc", email="ayse@example.com", account_username="ayse_k"),
        "Hesabımdan çekim yaptım, gelmedi",
    )
    mail = await intake(
        Contact(channel=CHANNEL_EMAIL, conversation_id="email:other", email="ayse@example.com"),
        "Ben başka biriyim, benim çekimim de yok",
    )
    assert mail.joined and mail.ticket.id == own.ticket.id
    boss = await login(client, "boss")
    number = own.ticket.number
    contacts = (await client.get(f"/api/v1/tickets/{number}/contacts", headers=boss)).json()["contacts"]
    res = await client.post(f"/api/v1/tickets/{number}/contacts/{contacts[1]['id']}/split", headers=boss)
    assert res.status_code == 201, res.text
    split = res.json()["ticket_number"]
    async with server.app.ctx.sessionmaker() as session:
        row = (await session.execute(select(Ticket).where(Ticket.id == int(split[2:])))).scalar_one()
    assert row.account_username is None and row.username is None
    assert row.summary["description"] == "Ben başka biriyim, benim çekimim de yok"
    assert "Hesabımdan" not in json.dumps(row.summary, ensure_ascii=False)


async def test_a_joined_mail_contacts_later_mail_goes_with_it_when_split(client: httpx.AsyncClient, server) -> None:
    from handoff.models import MailMessage
    from handoff.services.inbound_mail import handle_mail
    from handoff.services.mail_desk import MailDesk

    triage = server.app.ctx.triage
    async with server.app.ctx.sessionmaker() as session, session.begin():
        own = await open_request(
            session=session,
            request=IntakeRequest(
                contact=Contact(channel=CHANNEL_FORM, conversation_id="form:first", email="ali@example.org"),
                language="tr",
                description="Çekimim gelmedi",
                topic_id="withdrawal",
            ),
            triage=triage,
        )
        mail = await open_request(
            session=session,
            request=IntakeRequest(
                contact=Contact(channel=CHANNEL_EMAIL, conversation_id="email:second", email="ali@example.org"),
                language="tr",
                description="Bir de bonusum yok",
                topic_id="withdrawal",
            ),
            triage=triage,
        )
    assert mail.joined
    from handoff.mail.parse import parse_mail
    from handoff.services.mail_attachments import DocumentChecks
    from handoff.services.outbound_mail import load_mail_texts

    settings = server.app.ctx.settings
    desk = MailDesk(
        settings=settings,
        texts=load_mail_texts(settings.mail_texts_path),
        triage=triage,
        checks=DocumentChecks(store=server.app.ctx.document_store, scanner=server.app.ctx.scanner, settings=settings),
    )
    raw = (
        f"From: ali@example.org\r\nTo: support@desk.localhost\r\nSubject: [{own.ticket.number}] bonus\r\n"
        "Message-ID: <later@example.org>\r\n\r\nBonusum hala yok.\r\n"
    ).encode()
    async with server.app.ctx.sessionmaker() as session, session.begin():
        outcome = await handle_mail(session=session, desk=desk, mail=parse_mail(raw))
    assert outcome.ticket_number == own.ticket.number
    boss = await login(client, "boss")
    contacts = (await client.get(f"/api/v1/tickets/{own.ticket.number}/contacts", headers=boss)).json()["contacts"]
    res = await client.post(f"/api/v1/tickets/{own.ticket.number}/contacts/{contacts[1]['id']}/split", headers=boss)
    assert res.status_code == 201, res.text
    split = res.json()["ticket_number"]
    after = (await client.get(f"/api/v1/tickets/{split}", headers=boss)).json()["transcript"]
    assert [m["text"] for m in after if m["sender"] == "customer"] == ["Bir de bonusum yok", "Bonusum hala yok."]
    async with server.app.ctx.sessionmaker() as session:
        row = (
            await session.execute(select(MailMessage).where(MailMessage.message_id == "<later@example.org>"))
        ).scalar_one()
    assert row.ticket_id == int(split[2:])
