"""Postings of the request form, as its page sends them (multipart/form-data)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from support_rules.triage import SUPPORT_TIMEZONE

CUSTOMER_SECRET = "form-test-customer-token-secret-0123456789"


def desk_today() -> date:
    return datetime.now(ZoneInfo(SUPPORT_TIMEZONE)).date()


def days_ago(days: int) -> str:
    return (desk_today() - timedelta(days=days)).isoformat()


def multipart(fields: dict[str, str], files: Sequence[tuple[str, bytes, str]] = ()) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data posting: the text
    fields, then each file in the field ``files``."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
        )
    for filename, data, content_type in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def adult_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "topic": "deposit",
        "transaction_type": "deposit",
        "transaction_date": days_ago(2),
        "username": "ayse_k",
        "email": "ayse@example.com",
        "description": "Kartım 4111 1111 1111 1111 ile yatırdığım para hesabıma yansımadı.",
        "birth_date": "1990-05-04",
        "language": "tr",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def post_form(
    client: httpx.AsyncClient,
    fields: dict[str, str],
    files: Sequence[tuple[str, bytes, str]] = (),
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body, content_type = multipart(fields, files)
    sent = {"Content-Type": content_type, "Idempotency-Key": key or str(uuid.uuid4()), **(headers or {})}
    return await client.post("/form/api/requests", content=body, headers=sent)


async def post_raw(port: int, head: str, body: bytes, timeout: float = 20) -> bytes:
    """POST as a browser would, reading the answer while the body is still
    being sent (the service answers before it has read it all)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        with contextlib.suppress(OSError):
            writer.write(head.encode())
            for start in range(0, len(body), 64 * 1024):
                writer.write(body[start : start + 64 * 1024])
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        return await asyncio.wait_for(reader.read(4096), timeout)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()
