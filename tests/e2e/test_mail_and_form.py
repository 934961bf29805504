"""E-mail and the request form against the real handoff service process, as
`make run` starts it (stack/live.py: an SMTP server in `handoff serve`, the
desk's own mail written as .eml files by the directory relay): an unknown
sender is asked for a birth date and answers it, a form request arrives
beside it, an agent answers both over the API, and the answers leave as
mail, threaded and numbered."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
import requests

from stack.live import LiveStack, wait_for

DESK = "support@desk.localhost"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    running = LiveStack(Path(tmp_path_factory.mktemp("mail")))
    try:
        running.start_service()
        yield running
    finally:
        running.stop()


def _send(stack: LiveStack, sender: str, subject: str, text: str, in_reply_to: str | None = None) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, DESK, subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(text)
    wait_for(lambda: _delivered(stack, msg), seconds=15)  # the SMTP server starts just after the HTTP one
    return str(msg["Message-ID"])


def _delivered(stack: LiveStack, msg: EmailMessage) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
            assert smtp.send_message(msg) == {}
    except ConnectionRefusedError:
        return False
    return True


def _mails_to(stack: LiveStack, address: str) -> list[EmailMessage]:
    if not stack.mail_outbox.is_dir():
        return []
    found = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(stack.mail_outbox.glob("*.eml"))]
    return [m for m in found if m["To"] == address]  # type: ignore[misc]


def _queue(stack: LiveStack) -> list[dict]:
    return list(stack.as_agent("supervisor", "GET", "/queue")["queued"])


def test_email_and_form_requests_reach_the_queue_and_the_answers_leave_as_mail(stack: LiveStack) -> None:
    sender = f"ali.{uuid.uuid4().hex[:6]}@example.org"
    _send(
        stack, f"Ali Veli <{sender}>", "Para çekme sorunu", "Merhaba, dün yaptığım para çekme işlemi hesabıma geçmedi."
    )
    [ask] = wait_for(lambda: _mails_to(stack, sender))
    assert "Doğum tarihiniz" in ask.get_content() and ask["Auto-Submitted"] == "auto-replied"
    assert _queue(stack) == []  # nothing reaches an agent before the age check
    _send(stack, sender, f"Re: {ask['Subject']}", "Doğum tarihim 04.05.1990", in_reply_to=str(ask["Message-ID"]))
    mail_ticket = wait_for(lambda: [t for t in _queue(stack) if t["channel"] == "email"])[0]
    assert mail_ticket["department"] == "finance" and mail_ticket["language"] == "tr"

    fields = {
        "topic": "login",
        "email": "john@example.org",
        "description": "I cannot log in to my account since this morning.",
        "birth_date": "1990-05-04",
        "language": "en",
    }
    form = requests.post(
        f"{stack.handoff_url}/form/api/requests",
        files={name: (None, value) for name, value in fields.items()},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert form.status_code == 201, form.text
    form_number = form.json()["ticket_number"]
    channels = {t["ticket_number"]: t["channel"] for t in _queue(stack)}
    assert channels == {mail_ticket["ticket_number"]: "email", form_number: "form"}

    for number, agent, text in (
        (mail_ticket["ticket_number"], "agent_finance", "Merhaba Ali, çekiminizi kontrol ediyorum."),
        (form_number, "agent_technical", "Hello John, please try resetting your password."),
    ):
        stack.as_agent(agent, "POST", f"/tickets/{number}/claim")
        reply = stack.as_agent(agent, "POST", f"/tickets/{number}/reply", {"text": text})
        assert reply["delivered"] is False  # queued for the relay, not the chat
    [ali] = wait_for(lambda: [m for m in _mails_to(stack, sender) if "çekiminizi" in m.get_content()])
    assert f"[{mail_ticket['ticket_number']}]" in ali["Subject"] and ali["In-Reply-To"] and ali["References"]
    [john] = wait_for(lambda: [m for m in _mails_to(stack, "john@example.org") if "resetting" in m.get_content()])
    assert f"[{form_number}]" in john["Subject"]
    time.sleep(1)  # the relay worker's next passes send nothing twice
    assert len([m for m in _mails_to(stack, sender) if "çekiminizi" in m.get_content()]) == 1
    detail = stack.as_agent("agent_finance", "GET", f"/tickets/{mail_ticket['ticket_number']}")
    assert detail["transcript"][-1]["delivered"] is True
