"""An ``OutboundMail`` row as the e-mail that leaves the desk.

Everything that identifies the mail is on the row, fixed when it was
queued (Message-ID, subject, threading), so composing it again for a
retry gives the same mail; only ``Date`` is the moment of the attempt.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from handoff.models import OutboundMail, utcnow

__all__ = ["compose"]


def compose(
    row: OutboundMail, *, from_address: str, display_name: str = "", now: datetime | None = None
) -> EmailMessage:
    """text/plain UTF-8 in the row's language; ``Auto-Submitted:
    auto-replied`` on automatic mail (RFC 3834), so a well-behaved
    auto-responder does not answer it."""
    message = EmailMessage()
    local, _, domain = from_address.partition("@")
    message["From"] = Address(display_name=display_name, username=local, domain=domain) if domain else from_address
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    message["Date"] = format_datetime(now or utcnow())
    if row.automatic:
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(row.body, subtype="plain", charset="utf-8")
    message["Content-Language"] = row.language  # after set_content, which drops every Content- header
    return message
