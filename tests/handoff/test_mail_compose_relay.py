"""The mail the desk sends, as it leaves: composed from its queued row,
handed to a real SMTP server or written as a file."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from handoff.mail.compose import compose
from handoff.mail.relay import DirectoryRelay, RelayError, SmtpRelay, eml_name, make_relay
from handoff.mail.worker import retry_delay
from handoff.models import OutboundMail
from handoff.services.outbound_mail import load_mail_texts
from handoff.settings import REPO_ROOT
from stack.live import free_port
from tests.handoff.mail_helpers import SmtpSink

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def _row(**overrides: object) -> OutboundMail:
    values: dict[str, object] = {
        "kind": "reply",
        "automatic": False,
        "to_address": "ayse@example.com",
        "language": "tr",
        "subject": "[T-000123] Para yatırma",
        "body": "Merhaba Ayşe, paranız hesabınıza geçti.\n\nFatma\nMüşteri Destek",
        "message_id": "<abc123@desk.example>",
        "in_reply_to": "<cust-2@example.com>",
        "references": "<cust-1@example.com> <ack@desk.example> <cust-2@example.com>",
    }
    values.update(overrides)
    return OutboundMail(**values)


def test_a_reply_is_plain_utf8_text_threaded_on_the_customers_mail() -> None:
    message = compose(_row(), from_address="destek@desk.example", display_name="Müşteri Destek", now=NOW)
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert parsed["Message-ID"] == "<abc123@desk.example>"
    assert parsed["In-Reply-To"] == "<cust-2@example.com>"
    assert parsed["References"].split() == ["<cust-1@example.com>", "<ack@desk.example>", "<cust-2@example.com>"]
    assert parsed["Subject"] == "[T-000123] Para yatırma"
    assert parsed["From"].addresses[0].display_name == "Müşteri Destek"
    assert parsed["From"].addresses[0].addr_spec == "destek@desk.example"
    assert parsed["To"] == "ayse@example.com"
    assert parsed["Content-Language"] == "tr"
    assert parsed["Date"].datetime == NOW
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert "paranız hesabınıza geçti" in parsed.get_content()
    assert parsed["Auto-Submitted"] is None  # a person's answer


def test_automatic_mail_says_so_and_english_says_english() -> None:
    row = _row(
        automatic=True, kind="ack", language="en", in_reply_to=None, references=None, subject="[T-000123] Deposit"
    )
    parsed = message_from_bytes(
        bytes(compose(row, from_address="support@desk.example", now=NOW)), policy=policy.default
    )
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Content-Language"] == "en"
    assert parsed["In-Reply-To"] is None and parsed["References"] is None


def test_the_from_name_is_the_editors_in_both_languages() -> None:
    texts = load_mail_texts(REPO_ROOT / "data" / "mail.yml")
    assert texts.render("from_name", "tr") == "Müşteri Destek"
    assert texts.render("from_name", "en") == "Customer Support"


async def test_the_directory_relay_writes_a_whole_parseable_eml(tmp_path: Path) -> None:
    relay = make_relay(str(tmp_path / "outbox"))
    assert isinstance(relay, DirectoryRelay)
    await relay.send(compose(_row(), from_address="destek@desk.example", now=NOW))
    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["abc123@desk.example.eml"]  # no temporary left behind
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<abc123@desk.example>"
    assert "paranız hesabınıza geçti" in parsed.get_content()


def test_a_message_id_cannot_name_a_file_elsewhere() -> None:
    assert eml_name("<../../etc/passwd@x>") == ".._.._etc_passwd@x.eml"
    assert "/" not in eml_name("<a/b@c>")


async def test_the_directory_relay_reports_a_directory_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RelayError):
        await DirectoryRelay(blocker / "outbox").send(compose(_row(), from_address="d@x", now=NOW))


def test_relay_addresses() -> None:
    assert make_relay("") is None
    smtp = make_relay("smtp://mail.example:2525")
    assert isinstance(smtp, SmtpRelay) and (smtp.host, smtp.port, smtp.implicit_tls) == ("mail.example", 2525, False)
    tls = make_relay("smtps://mail.example")
    assert isinstance(tls, SmtpRelay) and (tls.port, tls.implicit_tls) == (465, True)
    with pytest.raises(ValueError, match="HANDOFF_MAIL_RELAY_USER"):
        make_relay("smtp://bob:hunter2@mail.example:25")


def test_retries_wait_longer_each_time_up_to_the_cap() -> None:
    waits = [retry_delay(n, first_seconds=30, max_seconds=600) for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]


async def test_the_smtp_relay_hands_the_mail_to_a_real_server() -> None:
    sink = await SmtpSink().start()
    try:
        relay = make_relay(sink.url, timeout=5)
        assert relay is not None
        await relay.send(compose(_row(), from_address="destek@desk.example", now=NOW))
        [got] = await sink.wait_for(1)
    finally:
        await sink.stop()
    assert got["Message-ID"] == "<abc123@desk.example>"
    assert sink.recipients == [["ayse@example.com"]]


async def test_a_relay_that_is_down_is_a_relay_error_naming_no_secret() -> None:
    relay = SmtpRelay("127.0.0.1", free_port(), username="desk", password="s3cret-pass", timeout=3)
    with pytest.raises(RelayError) as caught:
        await relay.send(compose(_row(), from_address="destek@desk.example", now=NOW))
    assert "s3cret-pass" not in str(caught.value)
    assert len(str(caught.value)) <= 300


# a log-in over plain text, on 127.0.0.1 only: aiosmtpd warns, rightly, elsewhere
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_the_smtp_relay_logs_in_with_the_password_from_the_settings() -> None:
    sink = await SmtpSink(credentials=("desk", "s3cret-pass")).start()
    try:
        good = make_relay(sink.url, username="desk", password="s3cret-pass", timeout=5)
        bad = make_relay(sink.url, username="desk", password="wrong-pass", timeout=5)
        assert good is not None and bad is not None
        await good.send(compose(_row(), from_address="destek@desk.example", now=NOW))
        with pytest.raises(RelayError) as caught:
            await bad.send(compose(_row(message_id="<other@desk.example>"), from_address="d@desk.example", now=NOW))
    finally:
        await sink.stop()
    assert sink.logins == ["desk"]
    assert [str(m["Message-ID"]) for m in sink.received] == ["<abc123@desk.example>"]
    assert "wrong-pass" not in str(caught.value) and "535" in str(caught.value)  # refused, not timed out
