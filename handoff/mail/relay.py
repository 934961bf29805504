"""Where the desk's mail goes: ``Relay`` is the interface.

- ``SmtpRelay``: an SMTP server (``smtp://host:port``, STARTTLS when the
  server offers it; ``smtps://host:port``, TLS from the first byte), with
  a log-in when ``HANDOFF_MAIL_RELAY_USER`` is set. The password comes
  from the environment only (``HANDOFF_MAIL_RELAY_PASSWORD``): an address
  with ``user:password@`` in it is refused, since addresses end up in logs.
- ``DirectoryRelay``: every mail as ``<message-id>.eml`` in a directory,
  written whole or not at all (``make run``: build/mail/outbox, so a
  developer reads every mail the desk sent).

``make_relay(settings.mail_relay)`` picks one; an empty setting is no
relay (None): mail stays queued. A relay that could not take a mail raises
``RelayError`` with a short reason that names no secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import aiosmtplib

__all__ = ["Relay", "SmtpRelay", "DirectoryRelay", "RelayError", "make_relay", "eml_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


class RelayError(RuntimeError):
    """The relay did not accept the mail (down, refused, timed out)."""


class Relay(ABC):
    @abstractmethod
    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over; returns once the relay has accepted it."""


class SmtpRelay(Relay):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        implicit_tls: bool = False,
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.implicit_tls = host, port, implicit_tls
        self._username, self._password, self._timeout = username, password, timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                use_tls=self.implicit_tls,
                username=self._username or None,
                password=(self._password or None) if self._username else None,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise RelayError(_reason(exc, self._password)) from None


def _reason(exc: BaseException, secret: str) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if secret:
        text = text.replace(secret, "***")
    return " ".join(text.split())[:300]


def eml_name(message_id: str) -> str:
    """``<abc@desk>`` -> ``abc@desk.eml``: the file name a mail is kept under."""
    return _UNSAFE.sub("_", message_id.strip().strip("<>")) + ".eml"


class DirectoryRelay(Relay):
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        data = bytes(message)
        try:
            await asyncio.to_thread(self._write, eml_name(str(message["Message-ID"])), data)
        except OSError as exc:
            raise RelayError(_reason(exc, "")) from None

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def make_relay(value: str, *, username: str = "", password: str = "", timeout: float = 30.0) -> Relay | None:
    """``smtp://host:port``, ``smtps://host:port``, a directory, or empty (None)."""
    value = value.strip()
    if not value:
        return None
    if not value.startswith(("smtp://", "smtps://")):
        return DirectoryRelay(Path(value).expanduser())
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValueError("HANDOFF_MAIL_RELAY: put the log-in in HANDOFF_MAIL_RELAY_USER / _PASSWORD, not the address")
    if not parts.hostname:
        raise ValueError(f"HANDOFF_MAIL_RELAY: no host in {value!r}")
    implicit = parts.scheme == "smtps"
    return SmtpRelay(
        parts.hostname,
        parts.port or (465 if implicit else 25),
        implicit_tls=implicit,
        username=username,
        password=password,
        timeout=timeout,
    )
