"""Mail that a machine sent: never answered automatically.

Auto-replies, bounces, mailing lists and "noreply" senders answer every
mail they get; answering them back would be a loop. RFC 3834's
Auto-Submitted, the older Precedence and X-Autoreply headers, list
headers on a mail to the desk, the senders' local parts that machines use,
a null Return-Path (a bounce) and delivery reports are the signs read here.
"""

from __future__ import annotations

import re

from handoff.mail.parse import InboundMail

__all__ = ["is_automatic", "automatic_reason"]

_ROBOT_LOCAL = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-+.].*|no-reply[-+.].*"
    r"|bounces?([-+.].*)?|auto[-_.]?(reply|responder|confirm)|daemon|mail[-_.]?daemon|listserv|majordomo)$",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


def automatic_reason(mail: InboundMail, *, desk_domain: str | None = None) -> str | None:
    """Why ``mail`` is automatic (a header or sender name), None for a person's
    mail. Mail from the desk's own domain (``desk_domain``) came back to it:
    a desk never answers itself."""
    headers = mail.headers
    submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return "auto-submitted"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return "precedence"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "x-autoreply"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "list"
    if headers.get("content-type", "").lower().startswith("multipart/report"):
        return "report"
    return_path = headers.get("return-path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "null return-path"
    if not mail.sender:
        return "no sender"
    local, _, domain = mail.sender.rpartition("@")
    if _ROBOT_LOCAL.match(local):
        return "robot sender"
    if desk_domain and domain == desk_domain.lower():
        return "the desk's own domain"
    return None


def is_automatic(mail: InboundMail, *, desk_domain: str | None = None) -> bool:
    return automatic_reason(mail, desk_domain=desk_domain) is not None
