"""Reading inbound mail (handoff.mail.parse, .quotes, .loops) on a corpus
of realistic samples made here: Gmail, Outlook, Apple Mail and phone
replies in Turkish and English, autoresponders, bounces, lists, and mail
that is broken in the ways real mail is."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from handoff.mail.loops import automatic_reason, is_automatic
from handoff.mail.parse import MAX_TEXT_CHARS, html_to_text, parse_mail
from handoff.mail.quotes import strip_quotes


def _mail(body: str = "Merhaba", *, sender: str = "Ayşe Yılmaz <Ayse.Yilmaz@Example.COM>", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@desk.localhost"
    msg["Subject"] = headers.pop("subject", "Para çekme sorunu")
    msg["Message-ID"] = headers.pop("message_id", "<abc123@mail.example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


# --- parse -----------------------------------------------------------------


def test_plain_turkish_mail_is_read_with_its_sender_and_ids() -> None:
    raw = _mail(
        "Merhaba, dün yaptığım para çekme işlemi hâlâ hesabıma geçmedi.",
        In_Reply_To="<q1@desk.localhost>",
        References="<first@desk.localhost> <q1@desk.localhost>",
    )
    mail = parse_mail(raw)
    assert mail.sender == "ayse.yilmaz@example.com"
    assert mail.sender_name == "Ayşe Yılmaz"
    assert mail.subject == "Para çekme sorunu"
    assert mail.message_id == "<abc123@mail.example.com>"
    assert mail.in_reply_to == ("<q1@desk.localhost>",)
    assert mail.references == ("<first@desk.localhost>", "<q1@desk.localhost>")
    assert mail.thread_ids == ("<q1@desk.localhost>", "<first@desk.localhost>")
    assert "hâlâ hesabıma geçmedi" in mail.text
    assert mail.problems == ()


def test_encoded_words_and_latin5_body() -> None:
    raw = (
        b"From: =?iso-8859-9?q?=DEule_G=FCr?= <sule@example.com.tr>\r\n"
        b"Subject: =?utf-8?b?xZ5pZnJlbWkgdW51dHR1bQ==?=\r\n"
        b"Message-ID: <l5@example.com.tr>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-9\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"\xdeifremi unuttum, giri\xfe yapam\xfdyorum.\r\n"
    )
    mail = parse_mail(raw)
    assert mail.sender_name == "Şule Gür"
    assert mail.subject == "Şifremi unuttum"
    assert mail.text == "Şifremi unuttum, giriş yapamıyorum."


@pytest.mark.parametrize("charset", ["x-unknown-charset", "utf-8", "rot13", '"'])
def test_unknown_or_broken_charset_never_raises(charset: str) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: =?x-nope?q?Merhaba?=\r\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n\r\n"
        b"Hesab\xc4\xb1m kilitlendi \xff\xfe\r\n"
    )
    mail = parse_mail(raw)
    assert "kilitlendi" in mail.text
    assert mail.problems  # named for the log


def test_html_only_mail_becomes_text_without_markup_or_quoted_history() -> None:
    msg = EmailMessage()
    msg["From"] = "john@example.org"
    msg["Subject"] = "Withdrawal"
    msg.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>My withdrawal&nbsp;is missing.</p>"
        "<div>Thanks,<br>John</div><blockquote>On Monday you wrote: old text</blockquote>"
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    mail = parse_mail(msg.as_bytes())
    assert mail.text == "My withdrawal is missing.\n\nThanks,\nJohn"
    assert html_to_text("<p>a<p>b") == "a\nb"


def test_nested_multiparts_take_the_plain_text_and_every_attachment() -> None:
    msg = EmailMessage()
    msg["From"] = "john@example.org"
    msg["Subject"] = "Documents"
    msg.set_content("Please find my ID attached.")
    msg.add_alternative("<p>Please find my <b>ID</b> attached.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="kimlik ön yüz.pdf")
    inner = EmailMessage()
    inner["Subject"] = "forwarded"
    inner.set_content("forwarded body")
    inner.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="receipt.png")
    msg.add_attachment(inner)
    mail = parse_mail(msg.as_bytes())
    assert mail.text == "Please find my ID attached."
    names = [(a.filename, a.content_type) for a in mail.attachments]
    assert ("kimlik ön yüz.pdf", "application/pdf") in names
    assert ("receipt.png", "image/png") in names


def test_no_body_no_headers_and_garbage_are_read_without_error() -> None:
    empty = parse_mail(b"")
    assert empty.text == "" and empty.sender == "" and empty.message_id.endswith("@no-message-id.invalid>")
    assert parse_mail(b"").message_id == empty.message_id  # a redelivery is the same mail
    headers_only = parse_mail(b"From: a@example.com\r\nSubject: only a subject\r\nMessage-ID: <h@x>\r\n\r\n")
    assert headers_only.text == "" and headers_only.subject == "only a subject"
    garbage = parse_mail(b"\x00\xff\xfe not a mail at all \r\n\r\n\x80\x81")
    assert garbage.sender == ""
    broken_boundary = parse_mail(
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="zzz"\r\n\r\n'
        b"--zzz\r\nContent-Type: text/plain\r\n\r\nhalf a mail"
    )
    assert "half a mail" in broken_boundary.text


def test_a_huge_body_is_cut() -> None:
    mail = parse_mail(_mail("a" * (MAX_TEXT_CHARS * 3)))
    assert len(mail.text) == MAX_TEXT_CHARS
    assert any("cut" in p for p in mail.problems)


# --- quotes ----------------------------------------------------------------

_GMAIL_TR = """Doğum tarihim 12.03.1990.

Teşekkürler

3 Ara 2026 Per 10:15 tarihinde Destek <support@desk.localhost> şunu yazdı:
> Merhaba,
> Talebinizi bir temsilciye iletebilmemiz için...
"""
_GMAIL_EN = """Still not fixed, see the screenshot.

On Thu, 3 Dec 2026 at 10:15, Support Desk <support@desk.localhost>
wrote:

> Hello,
> We have received your request.
"""
_OUTLOOK_EN = """Yes, the amount was 500 TL.

________________________________
From: Support Desk <support@desk.localhost>
Sent: Thursday, December 3, 2026 10:15 AM
To: John <john@example.org>
Subject: [T-000001] Withdrawal

Hello, ...
"""
_OUTLOOK_TR = """Evet, tutar 500 TL idi.

-----Özgün İleti-----
Kimden: Destek <support@desk.localhost>
Gönderildi: 3 Aralık 2026 Perşembe 10:15
Konu: [T-000001] Para çekme
"""
_OUTLOOK_TR_HEADERS = """Tamam.

Kimden: Destek <support@desk.localhost>
Gönderildi: 3 Aralık 2026 Perşembe 10:15
Kime: ali@example.com.tr
"""
_ORIGINAL = """Thanks.

-----Original Message-----
From: Support Desk
"""
_INLINE = """> Which transaction?
The deposit of yesterday.
> And the amount?
250 TL
"""
_SIGNATURE = """Hesabım hâlâ kilitli.

--
Ali Veli
0555 000 00 00
"""
_IPHONE_EN = """Can you call me?

Sent from my iPhone

On 3 Dec 2026, at 10:15, Support wrote:
> Hello
"""
_IPHONE_TR = """Beni arayabilir misiniz?

iPhone'umdan gönderildi
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_GMAIL_TR, "Doğum tarihim 12.03.1990.\n\nTeşekkürler"),
        (_GMAIL_EN, "Still not fixed, see the screenshot."),
        (_OUTLOOK_EN, "Yes, the amount was 500 TL."),
        (_OUTLOOK_TR, "Evet, tutar 500 TL idi."),
        (_OUTLOOK_TR_HEADERS, "Tamam."),
        (_ORIGINAL, "Thanks."),
        (_INLINE, "The deposit of yesterday.\n250 TL"),
        (_SIGNATURE, "Hesabım hâlâ kilitli."),
        (_IPHONE_EN, "Can you call me?"),
        (_IPHONE_TR, "Beni arayabilir misiniz?"),
        ("From now on I will send my documents by mail.\nDate: tomorrow", None),
        ("Plain text with no history.", None),
    ],
)
def test_quoted_history_and_signatures_are_cut(text: str, expected: str | None) -> None:
    assert strip_quotes(text) == (expected if expected is not None else text.strip())


# --- loops -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "john@example.org", "auto-submitted"),
        ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, "john@example.org", "auto-submitted"),
        ({"Precedence": "bulk"}, "news@example.org", "precedence"),
        ({"Precedence": "junk"}, "john@example.org", "precedence"),
        ({"Precedence": "list"}, "john@example.org", "precedence"),
        ({"X_Autoreply": "yes"}, "john@example.org", "x-autoreply"),
        ({"X_Autorespond": "Ofis dışındayım"}, "john@example.org", "x-autoreply"),
        ({"List_Id": "<users.lists.example.org>"}, "john@example.org", "list"),
        ({"List_Unsubscribe": "<mailto:leave@example.org>"}, "john@example.org", "list"),
        ({"Return_Path": "<>"}, "john@example.org", "null return-path"),
        ({}, "MAILER-DAEMON@mx.example.org", "robot sender"),
        ({}, "postmaster@example.org", "robot sender"),
        ({}, "no-reply@bank.example", "robot sender"),
        ({}, "noreply+abc@example.org", "robot sender"),
        ({}, "donotreply@example.org", "robot sender"),
    ],
)
def test_machine_mail_is_automatic(headers: dict[str, str], sender: str, reason: str) -> None:
    mail = parse_mail(_mail("Ofis dışındayım / Out of office", sender=sender, **headers))
    assert automatic_reason(mail) == reason
    assert is_automatic(mail)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Auto_Submitted": "no"}, {"Precedence": "normal"}, {"Return_Path": "<ali@example.com.tr>"}],
)
def test_a_person_s_mail_is_not_automatic(headers: dict[str, str]) -> None:
    mail = parse_mail(_mail("Hesabım kilitlendi", sender="ali.noreplyfan@example.com.tr", **headers))
    assert automatic_reason(mail) is None


def test_a_delivery_report_is_automatic() -> None:
    raw = (
        b"From: Mail Delivery System <mailer@mx.example.org>\r\nSubject: Undelivered Mail\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n--b--\r\n"
    )
    assert automatic_reason(parse_mail(raw)) == "report"


def test_mail_from_the_desk_s_own_domain_is_automatic() -> None:
    mail = parse_mail(_mail("Talebinizi aldık", sender="Destek <support@desk.localhost>"))
    assert automatic_reason(mail) is None
    assert automatic_reason(mail, desk_domain="desk.localhost") == "the desk's own domain"
    assert not is_automatic(parse_mail(_mail("Merhaba")), desk_domain="desk.localhost")


def test_a_nul_in_an_encoded_header_and_an_overlong_sender_are_made_storable() -> None:
    """PostgreSQL stores no NUL and an address column holds 254 characters:
    a mail carrying either is read, not refused forever."""
    raw = (
        b"From: =?utf-8?b?QWxpAFZlbGk=?= <ali@example.org>\r\nTo: support@desk.localhost\r\n"
        b"Subject: =?utf-8?b?UGFyYQBjZWttZQ==?=\r\nMessage-ID: <nul@example.org>\r\n\r\nMerhaba\r\n"
    )
    mail = parse_mail(raw)
    assert "\x00" not in mail.sender_name + mail.subject and mail.subject == "Paracekme"
    assert mail.sender == "ali@example.org" and any("control characters" in p for p in mail.problems)
    long_sender = parse_mail(b"From: " + b"a" * 300 + b"@example.org\r\nSubject: x\r\n\r\nhi\r\n")
    assert long_sender.sender == "" and any("longer than SMTP allows" in p for p in long_sender.problems)
