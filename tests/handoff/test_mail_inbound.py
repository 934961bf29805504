"""The inbound e-mail channel through real SMTP sessions (smtplib) against
the running service's aiosmtpd server, on SQLite and PostgreSQL: new
requests, the age question, threading and its permission check, quoted
history, attachments, malformed mail and an autoresponder loop."""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.live_bus import InMemoryLiveBus
from handoff.models import Document, MailDraft, MailMessage, MailSender, Message, OutboundMail, Ticket, utcnow
from tests.handoff.conftest import Collected, Seed, StartApp
from tests.handoff.documents_files import pdf, png, zip_bytes
from tests.handoff.helpers import free_port, make_settings

DESK = "support@desk.localhost"
AUTO_LIMIT = 3


@dataclass
class Desk:
    port: int
    sessionmaker: async_sessionmaker[AsyncSession]
    app: object

    def _session(self, mail_from: str, rcpts: Sequence[str], raw: bytes) -> tuple[list[int], int]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as smtp:
            smtp.ehlo("client.example.org")
            code, _ = smtp.mail(mail_from)
            assert code == 250
            rcpt_codes = [smtp.rcpt(r)[0] for r in rcpts]
            if not any(c == 250 for c in rcpt_codes):
                return rcpt_codes, 0
            code, _ = smtp.data(raw)
            return rcpt_codes, code

    async def send(
        self, raw: bytes, *, mail_from: str = "relay@client.example.org", rcpts: Sequence[str] = (DESK,)
    ) -> int:
        """One SMTP session; the DATA reply code."""
        _, code = await asyncio.to_thread(self._session, mail_from, list(rcpts), raw)
        return code

    async def rcpt_codes(self, rcpts: Sequence[str]) -> list[int]:
        codes, _ = await asyncio.to_thread(
            self._session, "x@example.org", list(rcpts), _mail("x@example.org", "s", "t")
        )
        return codes

    async def all(self, model: type, *where: object) -> list:
        async with self.sessionmaker() as session:
            key = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
            return list((await session.execute(select(model).where(*where).order_by(key))).scalars())

    async def count(self, model: type, *where: object) -> int:
        async with self.sessionmaker() as session:
            return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    async def adult(self, *addresses: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            for address in addresses:
                session.add(MailSender(address=address, adult_checked_at=utcnow(), updated_at=utcnow()))

    async def out(self, to: str) -> list[OutboundMail]:
        return await self.all(OutboundMail, OutboundMail.to_address == to)


def _mail(
    sender: str,
    subject: str,
    text: str | None,
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="client.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if text is not None:
        msg.set_content(text)
    for filename, ctype, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
async def desk(
    db_url: str,
    seed: Seed,
    start_app: StartApp,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: InMemoryLiveBus,
) -> Desk:
    port = free_port()
    app = create_app(
        make_settings(
            db_url,
            smtp_listen=f"127.0.0.1:{port}",
            mail_address=DESK,
            mail_auto_replies_per_hour=AUTO_LIMIT,
            document_dir=tmp_path / "documents",
        ),
        bus=bus,
        name=f"handoff_{uuid.uuid4().hex[:8]}",
    )
    await start_app(app)
    return Desk(port, sessionmaker, app)


def _addr() -> str:
    return f"c{uuid.uuid4().hex[:10]}@example.com.tr"


async def test_known_adult_requests_in_turkish_and_english_are_queued_and_acknowledged(desk: Desk) -> None:
    ali, john = _addr(), _addr()
    await desk.adult(ali, john)
    tr = _mail(
        f"Ali Veli <{ali.upper()}>",
        "Para çekme sorunu",
        "Merhaba, dün yaptığım para çekme işlemi hâlâ hesabıma geçmedi. Yardımcı olur musunuz?",
    )
    en = _mail(john, "Cannot log in", "Hello, I cannot log in to my account since this morning. Please help.")
    assert await desk.send(tr, mail_from=ali) == 250
    assert await desk.send(en, mail_from=john) == 250
    tickets = await desk.all(Ticket)
    by_topic = {t.topic_id: t for t in tickets}
    assert set(by_topic) == {"withdrawal", "login"}
    assert (by_topic["withdrawal"].department_id, by_topic["withdrawal"].language) == ("finance", "tr")
    assert (by_topic["login"].department_id, by_topic["login"].language) == ("technical", "en")
    assert all(t.status == "queued" and t.channel == "email" for t in tickets)
    [ack_tr] = await desk.out(ali)
    [ack_en] = await desk.out(john)
    assert (ack_tr.kind, ack_tr.language, ack_tr.automatic) == ("ack", "tr", True)
    assert by_topic["withdrawal"].number in ack_tr.subject and "Talep numaranız" in ack_tr.body
    assert (ack_en.kind, ack_en.language) == ("ack", "en")
    assert f"[{by_topic['login'].number}]" in ack_en.subject and "request number" in ack_en.body
    # a second request of the same customer and topic joins the first
    again = _mail(ali, "Para çekme", "Para çekme talebim hakkında tekrar yazıyorum.")
    assert await desk.send(again) == 250
    assert await desk.count(Ticket) == 2
    assert [m.kind for m in await desk.out(ali)] == ["ack", "joined"]


async def test_redelivered_mail_is_handled_once(desk: Desk, collected: Collected) -> None:
    ali = _addr()
    await desk.adult(ali)
    raw = _mail(ali, "Şifre", "Şifremi unuttum, sıfırlama e-postası gelmiyor.")
    for _ in range(3):
        assert await desk.send(raw) == 250
    # two servers delivering the same mail at the same moment: one wins, the other retries
    codes = await asyncio.gather(*(desk.send(raw) for _ in range(2)))
    assert set(codes) <= {250, 451}
    assert await desk.send(raw) == 250
    [ticket] = await desk.all(Ticket)
    assert len(await desk.out(ali)) == 1
    queued = [e for e in collected.events if e.get("type") == "ticket.queued"]
    assert queued == [{"type": "ticket.queued", "ticket_number": ticket.number, "department": "account"}]


async def test_unknown_sender_is_asked_for_the_birth_date_and_its_reply_opens_the_request(desk: Desk) -> None:
    ayse = _addr()
    first = _mail(
        ayse,
        "Para yatırma",
        "Yatırdığım para hesabıma yansımadı, kullanıcı adım ayse_k.",
        attachments=[("dekont.pdf", "application/pdf", pdf())],
    )
    assert await desk.send(first) == 250
    assert await desk.count(Ticket) == 0  # no agent sees it yet
    [ask] = await desk.out(ayse)
    assert (ask.kind, ask.language, ask.automatic) == ("ask", "tr", True)
    assert "Doğum tarihiniz" in ask.body and "http://127.0.0.1:8080/panel/" in ask.body
    assert "Talebinizin konusu" not in ask.body  # the topic was read already
    [draft] = await desk.all(MailDraft)
    assert draft.status == "waiting" and draft.values["topic"] == "deposit"
    reply = _mail(
        ayse,
        f"Re: {ask.subject}",
        "Doğum tarihim 14.02.1990\n\n3 Ara 2026 Per 10:15 tarihinde Destek <support@desk.localhost> şunu yazdı:\n> eski",
        in_reply_to=ask.message_id,
    )
    assert await desk.send(reply) == 250
    [ticket] = await desk.all(Ticket)
    assert (ticket.topic_id, ticket.department_id, ticket.language) == ("deposit", "finance", "tr")
    [sender] = await desk.all(MailSender, MailSender.address == ayse)
    assert sender.adult_checked_at is not None
    [draft] = await desk.all(MailDraft)
    assert (draft.status, draft.ticket_id) == ("converted", ticket.id)
    assert [m.kind for m in await desk.out(ayse)] == ["ask", "ack"]
    [doc] = await desk.all(Document)  # kept while the request waited, the ticket's now
    assert doc.ticket_id == ticket.id
    assert "\N{PAPERCLIP} dekont.pdf" in [m.text for m in await desk.all(Message, Message.ticket_id == ticket.id)]
    # the birth date is nowhere
    stored = [m.text for m in await desk.all(Message)] + [draft.text, str(ticket.summary)]
    assert not any("14.02.1990" in s or "1990" in s for s in stored)


async def test_an_adult_without_a_topic_is_asked_for_it_then_joined_by_subject(desk: Desk) -> None:
    john = _addr()
    await desk.adult(john)
    assert await desk.send(_mail(john, "Help", "Hello, something is wrong, please help me.")) == 250
    [ask] = await desk.out(john)
    assert ask.kind == "ask" and "The topic of your request" in ask.body and "date of birth" not in ask.body
    # answered by subject only (no In-Reply-To)
    assert await desk.send(_mail(john, f"RE: {ask.subject}", "Withdrawal")) == 250
    [ticket] = await desk.all(Ticket)
    assert ticket.topic_id == "withdrawal"


async def test_a_nul_in_the_subject_is_accepted_on_every_backend(desk: Desk) -> None:
    sender = _addr()
    raw = (
        f"From: {sender}\r\nTo: {DESK}\r\nSubject: =?utf-8?b?UGFyYQBjZWttZQ==?=\r\n"
        f"Message-ID: <nul.{sender}>\r\n\r\nMerhaba, param gelmedi.\r\n"
    ).encode()
    assert await desk.send(raw, mail_from=sender) == 250
    [draft] = await desk.all(MailDraft)
    assert draft.subject == "Paracekme"


async def test_a_card_number_in_the_subject_is_masked_in_the_draft_and_the_question(desk: Desk) -> None:
    """The desk's question repeats the customer's subject: masked like every
    stored text, in the waiting request and in the mail that leaves."""
    sender = _addr()
    assert await desk.send(_mail(sender, "Kart 4111 1111 1111 1111 ile para yatırdım", "Yardım edin")) == 250
    [ask] = await desk.out(sender)
    [draft] = await desk.all(MailDraft)
    for text in (ask.subject, draft.subject):
        assert "4111 1111 1111 1111" not in text and "1111" in text  # the last digits stay readable


async def test_an_under_18_reply_refuses_the_draft_and_erases_it(desk: Desk) -> None:
    kid = _addr()
    raw = _mail(
        kid,
        "Bonus",
        "Hi, my bonus was not credited. My password is hunter2.",
        attachments=[("b.png", "image/png", png())],
    )
    assert await desk.send(raw) == 250
    [ask] = await desk.out(kid)
    assert ask.language == "en" and await desk.count(Document) == 1
    assert await desk.send(_mail(kid, f"Re: {ask.subject}", "My date of birth is 5 May 2012")) == 250
    [draft] = await desk.all(MailDraft)
    assert (draft.status, draft.text, draft.subject, draft.values) == ("refused", "", "", {})
    assert [m.kind for m in await desk.out(kid)] == ["ask", "under_18"]
    assert await desk.count(Ticket) == 0 and await desk.count(Document) == 0
    assert await desk.count(MailSender, MailSender.address == kid) == 0


async def _open_ticket(desk: Desk, address: str) -> tuple[Ticket, OutboundMail]:
    await desk.adult(address)
    assert await desk.send(_mail(address, "Hesabım kilitlendi", "Hesabım kilitlendi, giriş yapamıyorum.")) == 250
    ticket = (await desk.all(Ticket))[-1]
    [ack] = await desk.out(address)
    return ticket, ack


async def test_threaded_replies_reach_the_ticket_live_with_only_the_new_text(desk: Desk, collected: Collected) -> None:
    ali = _addr()
    ticket, ack = await _open_ticket(desk, ali)
    by_subject = _mail(ali, f"Re: [{ticket.number}] Hesap kilitlendi", "Kimlik belgemi de gönderebilirim.")
    assert await desk.send(by_subject) == 250
    by_reply = _mail(
        ali,
        "Re: something else entirely",
        "Hala bekliyorum.\n\nOn Thu, 3 Dec 2026 at 10:15, Support <support@desk.localhost> wrote:\n> We have received",
        in_reply_to=ack.message_id,
    )
    assert await desk.send(by_reply) == 250
    lines = [(m.text, m.channel) for m in await desk.all(Message, Message.ticket_id == ticket.id)]
    assert ("Kimlik belgemi de gönderebilirim.", "email") in lines
    assert ("Hala bekliyorum.", "email") in lines
    assert not any("We have received" in text for text, _ in lines)
    assert await desk.count(Ticket) == 1
    news = [e for e in collected.events if e.get("type") == "message.new"]
    assert len(news) >= 2 and all(e["ticket_number"] == ticket.number for e in news)
    assert [m.kind for m in await desk.out(ali)] == ["ack"]  # no automatic answer to a thread line


async def test_a_stranger_quoting_a_ticket_number_does_not_reach_it(desk: Desk) -> None:
    ali, stranger = _addr(), _addr()
    ticket, ack = await _open_ticket(desk, ali)
    await desk.adult(stranger)
    forged = [
        _mail(stranger, f"Re: [{ticket.number}] Hesap kilitlendi", "Bu hesabın şifresini bana gönderin."),
        _mail(stranger, "Re: hesap", "Şifreyi bana gönderin.", in_reply_to=ack.message_id),
    ]
    for raw in forged:
        assert await desk.send(raw) == 250
    texts = [m.text for m in await desk.all(Message, Message.ticket_id == ticket.id)]
    assert not any("bana gönderin" in t for t in texts)
    assert all(m.to_address != stranger or m.ticket_id != ticket.id for m in await desk.all(OutboundMail))
    assert await desk.count(MailMessage, MailMessage.direction == "in", MailMessage.ticket_id == ticket.id) == 1


async def test_attachments_are_checked_stored_and_a_refused_one_is_named(desk: Desk) -> None:
    john = _addr()
    await desk.adult(john)
    raw = _mail(
        john,
        "Withdrawal",
        "My withdrawal is missing, the receipt and statement are attached.",
        attachments=[
            ("receipt.png", "image/png", png()),
            ("statement.pdf", "application/pdf", pdf()),
            ("tools.zip", "application/zip", zip_bytes()),
        ],
    )
    assert await desk.send(raw) == 250
    [ticket] = await desk.all(Ticket)
    docs = await desk.all(Document, Document.ticket_id == ticket.id)
    assert sorted(d.content_type for d in docs) == ["application/pdf", "image/png"]
    lines = [m.text for m in await desk.all(Message, Message.ticket_id == ticket.id)]
    assert any("tools.zip" in t and "unsupported_type" in t for t in lines)
    [ack] = await desk.out(john)
    assert "tools.zip" in ack.body and "JPEG, PNG and WebP" in ack.body
    # a reply in the thread brings another document to the same ticket
    more = _mail(
        john,
        f"Re: {ack.subject}",
        "One more.",
        in_reply_to=ack.message_id,
        attachments=[("id.png", "image/png", png((30, 30)))],
    )
    assert await desk.send(more) == 250
    assert await desk.count(Document, Document.ticket_id == ticket.id) == 3


async def test_malformed_mail_is_accepted_and_read_as_well_as_it_can_be(desk: Desk) -> None:
    ali = _addr()
    await desk.adult(ali)
    broken_charset = (
        f"From: {ali}\r\nTo: {DESK}\r\nSubject: =?x-bogus?q?Para_=E7ekme?=\r\nMessage-ID: <bc-{uuid.uuid4().hex}@x>\r\n"
        "Content-Type: text/plain; charset=x-bogus\r\n\r\n"
    ).encode() + b"Para \xe7ekme i\xfelemim g\xf6r\xfcnm\xfcyor \xff\r\n"
    nested = EmailMessage()
    nested["From"], nested["To"], nested["Subject"] = ali, DESK, "Şifre"
    nested.set_content("Şifremi sıfırlayamıyorum.")
    nested.add_alternative("<p>Şifremi sıfırlayamıyorum.</p>", subtype="html")
    inner = EmailMessage()
    inner.set_content("iç ileti")
    nested.add_attachment(inner)
    no_body = f"From: {ali}\r\nTo: {DESK}\r\nSubject: Uygulama\r\n\r\n".encode()
    huge = _mail(
        ali,
        "Bahis sonucu",
        "Ekteki dosya.",
        attachments=[("big.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 15_000_000)],
    )
    assert len(huge) > 20_000_000
    long_text = _mail(ali, "Para yatırma", "Para yatırma sorunu yaşıyorum. " + "Çok uzun bir metin. " * 150_000)
    garbage = b"\x00\x01 this is not \xff a mail \r\n\r\n--\r\n"
    for raw in (broken_charset, nested.as_bytes(), no_body, huge, long_text, garbage):
        assert await desk.send(raw, mail_from=ali) == 250
    assert await desk.count(MailMessage, MailMessage.direction == "in") == 6
    tickets = {t.topic_id: t for t in await desk.all(Ticket)}
    assert {"withdrawal", "password", "app", "bet_settlement", "deposit"} <= set(tickets)
    assert len(tickets["deposit"].summary["description"]) <= 4000
    big = [m.text for m in await desk.all(Message) if "big.pdf" in m.text]
    assert big and "too_large" in big[0]


async def test_no_open_relay(desk: Desk) -> None:
    codes = await desk.rcpt_codes(["someone@elsewhere.example", "destek@desk.localhost", DESK])
    assert codes == [550, 250, 250]
    assert await desk.send(_mail(_addr(), "x", "y"), rcpts=["victim@elsewhere.example"]) == 0


async def test_an_autoresponder_loop_stops_at_the_hourly_limit(desk: Desk) -> None:
    bot = _addr()  # answers every mail it gets, looking like a person
    last_id: str | None = None
    for i in range(8):
        raw = _mail(bot, "Ofis dışındayım / Out of office", f"Ofis dışındayım, {i}. yanıt.", in_reply_to=last_id)
        assert await desk.send(raw) == 250
        sent = await desk.out(bot)
        last_id = sent[-1].message_id if sent else None
    assert len(await desk.out(bot)) == AUTO_LIMIT
    assert await desk.count(MailMessage, MailMessage.direction == "in") == 8  # every mail was taken
    # a real autoresponder (Auto-Submitted) gets nothing at all, threaded or not
    robot = _addr()
    for i in range(5):
        assert await desk.send(_mail(robot, "Auto: Re: Destek", f"I am away {i}", Auto_Submitted="auto-replied")) == 250
    assert await desk.out(robot) == []
    # the desk's own mail delivered back to it is not answered either
    assert await desk.send(_mail(f"Destek <{DESK}>", "[T-000001] Para çekme", "Talebinizi aldık.")) == 250
    assert await desk.out(DESK) == []
    ali = _addr()
    ticket, ack = await _open_ticket(desk, ali)
    away = _mail(
        ali,
        f"Otomatik yanıt: [{ticket.number}]",
        "İzindeyim.",
        in_reply_to=ack.message_id,
        Auto_Submitted="auto-replied",
    )
    assert await desk.send(away) == 250
    assert "İzindeyim." in [m.text for m in await desk.all(Message, Message.ticket_id == ticket.id)]
    assert len(await desk.out(ali)) == 1  # just the ack


async def test_an_internal_failure_answers_451_and_the_retry_is_taken(desk: Desk, tmp_path: Path) -> None:
    from handoff.db import make_engine, make_sessionmaker

    handler = desk.app.ctx.mail_handler  # type: ignore[attr-defined]
    working = handler.sessionmaker
    broken = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nothing.db'}")
    handler.sessionmaker = make_sessionmaker(broken)
    john = _addr()
    await desk.adult(john)
    raw = _mail(john, "Deposit", "My deposit is not on my account.")
    try:
        assert await desk.send(raw) == 451
    finally:
        handler.sessionmaker = working
        await broken.dispose()
    assert await desk.count(Ticket) == 0
    assert await desk.send(raw) == 250
    assert await desk.count(Ticket) == 1


async def test_automatic_mails_count_only_the_last_hour(desk: Desk) -> None:
    """The limit is per hour: old automatic mails do not block a new ask."""
    addr = _addr()
    async with desk.sessionmaker() as session, session.begin():
        for i in range(AUTO_LIMIT):
            session.add(
                OutboundMail(
                    kind="ask",
                    automatic=True,
                    to_address=addr,
                    language="en",
                    subject="s",
                    body="b",
                    message_id=f"<old{i}-{uuid.uuid4().hex}@desk.localhost>",
                    status="sent",
                    created_at=utcnow() - timedelta(hours=2),
                    next_attempt_at=utcnow(),
                )  # fmt: skip
            )
    assert await desk.send(_mail(addr, "Help", "Hello, my account is locked.")) == 250
    assert len(await desk.out(addr)) == AUTO_LIMIT + 1


def test_make_run_starts_the_smtp_server_on_its_port() -> None:
    """The Procfile's handoff process gets HANDOFF_SMTP_LISTEN from the
    Makefile's HANDOFF_SMTP_PORT (2525 unless set)."""
    root = Path(__file__).resolve().parents[2]
    port = subprocess.run(
        ["make", "-s", "--no-print-directory", "ENV_FILE=/dev/null", "--eval", "print-%: ; @echo $($*)", "print-HANDOFF_SMTP_PORT"],
        cwd=root, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()[-1]  # fmt: skip
    assert port == "2525"
    [line] = [ln for ln in (root / "Procfile").read_text(encoding="utf-8").splitlines() if ln.startswith("handoff:")]
    command = line.split(":", 1)[1].replace(".venv/handoff/bin/python -m handoff serve", "env")
    shown = subprocess.run(
        ["sh", "-c", command], env={"HANDOFF_SMTP_PORT": port, "PATH": os.environ["PATH"]},
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout  # fmt: skip
    assert "HANDOFF_SMTP_LISTEN=127.0.0.1:2525" in shown.splitlines()


def test_what_a_mail_request_still_needs_follows_the_bot_s_form() -> None:
    from handoff.services.mail_requests import is_complete, missing_values
    from handoff.settings import REPO_ROOT
    from support_rules.catalogue import load_catalogue

    catalogue = load_catalogue(REPO_ROOT / "data" / "catalogue.yml")
    everything = ["birth_date", "topic", "transaction_type", "transaction_date", "username"]
    assert missing_values({}, False, catalogue) == everything
    assert missing_values({"topic": "login", "transaction_type": "none"}, True, catalogue) == ["username"]
    assert missing_values({"topic": "deposit", "transaction_type": "deposit"}, True, catalogue) == [
        "transaction_date",
        "username",
    ]
    assert is_complete(["transaction_date", "username"]) and not is_complete(["birth_date"])


async def test_a_message_id_in_another_case_is_another_mail_and_reaches_no_one_elses_request(desk: Desk) -> None:
    ayse, other = _addr(), _addr()
    await desk.adult(ayse, other)
    first = _mail(ayse, "Para çekme sorunu", "Çekimim hesabıma geçmedi.", message_id="<Thread.One@example.org>")
    assert await desk.send(first, mail_from=ayse) == 250
    copied = _mail(other, "Para çekme", "Benim de çekimim gelmedi.", message_id="<thread.one@example.org>")
    assert await desk.send(copied, mail_from=other) == 250
    tickets = await desk.all(Ticket)
    assert len(tickets) == 2 and len({t.conversation_id for t in tickets}) == 2
