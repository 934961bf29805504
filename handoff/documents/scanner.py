"""Virus scanning through ClamAV's daemon, clamd, when one is configured.

``ClamdScanner`` speaks clamd's ``INSTREAM`` command over a TCP or Unix
socket (``HANDOFF_CLAMD_ADDRESS``: ``host:port`` or a socket path): the
file in length-prefixed chunks, then a zero-length chunk; clamd answers
``stream: OK`` or ``stream: <signature> FOUND``. Anything else (no answer,
a refused connection, an ``ERROR`` such as its stream size limit) is
``UNAVAILABLE``: the document is held, never passed unscanned.
``NoScanner`` (no address set, the ``make run`` default) scans nothing:
documents are accepted after the content checks alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["Verdict", "ScanResult", "Scanner", "NoScanner", "ClamdScanner", "make_scanner"]

log = logging.getLogger("handoff.documents")

_CHUNK = 64 * 1024
_MAX_REPLY = 4096


class Verdict(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"  # the scanner could not say: hold the file
    NOT_SCANNED = "not_scanned"  # no scanner configured


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    signature: str | None = None


class Scanner(ABC):
    @abstractmethod
    async def scan(self, data: bytes) -> ScanResult: ...


class NoScanner(Scanner):
    async def scan(self, data: bytes) -> ScanResult:
        return ScanResult(Verdict.NOT_SCANNED)


class ClamdScanner(Scanner):
    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.address.startswith("/"):
            return await asyncio.open_unix_connection(self.address)
        host, _, port = self.address.rpartition(":")
        return await asyncio.open_connection(host.strip("[]") or "127.0.0.1", int(port))

    async def _instream(self, data: bytes) -> bytes:
        reader, writer = await self._connect()
        try:
            writer.write(b"zINSTREAM\0")
            for start in range(0, len(data), _CHUNK):
                chunk = data[start : start + _CHUNK]
                writer.write(struct.pack("!I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack("!I", 0))
            await writer.drain()
            reply = await reader.readuntil(b"\0")
            return reply[:_MAX_REPLY]
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def scan(self, data: bytes) -> ScanResult:
        try:
            reply = await asyncio.wait_for(self._instream(data), self.timeout)
        except (
            OSError,
            ValueError,
            asyncio.TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as exc:
            log.warning("clamd at %s did not answer: %s", self.address, exc)
            return ScanResult(Verdict.UNAVAILABLE)
        text = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        if text.endswith(" OK"):
            return ScanResult(Verdict.CLEAN)
        if text.endswith(" FOUND"):
            signature = text.split(":", 1)[-1].strip()[: -len("FOUND")].strip()
            return ScanResult(Verdict.INFECTED, signature or None)
        log.warning("clamd at %s answered %r", self.address, text[:200])
        return ScanResult(Verdict.UNAVAILABLE)


def make_scanner(address: str, *, timeout: float = 30.0) -> Scanner:
    """clamd at ``address``, or no scanner when it is empty."""
    return ClamdScanner(address, timeout=timeout) if address.strip() else NoScanner()
