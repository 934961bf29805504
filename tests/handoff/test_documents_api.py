"""Documents over HTTP: the web chat's upload, the agents' list and download,
the attacks an upload may carry, and who may see what."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.documents.refusals import REFUSAL_CODES
from handoff.documents.storage import DirectoryStore
from handoff.live_bus import InMemoryLiveBus
from handoff.models import AuditEntry, Document, Message
from stack.live import free_port
from tests.handoff.conftest import Collected, Seed, StartApp
from tests.handoff.documents_files import jpeg_with_gps, pdf, png, png_bomb, svg_with_script, zip_bytes
from tests.handoff.documents_helpers import Customer, hand_off, new_customer, page_labels, start_documents_app, upload
from tests.handoff.helpers import login, until


@pytest.fixture
def document_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
async def client(
    db_url: str, seed: Seed, start_app: StartApp, document_dir: Path, bus: InMemoryLiveBus
) -> httpx.AsyncClient:
    base = await start_documents_app(start_app, db_url, document_dir, bus=bus)
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        yield c


def stored_files(document_dir: Path) -> list[Path]:
    return [p for p in document_dir.rglob("*") if p.is_file()] if document_dir.exists() else []


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_screenshot_reaches_the_agents_of_the_ticket(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    document_dir: Path,
    collected: Collected,
) -> None:
    customer = new_customer()
    number = await hand_off(client, customer)
    res = await upload(client, customer, png(), "ekran görüntüsü.png")
    assert res.status_code == 201, res.text
    doc = res.json()["document"]
    assert doc["filename"] == "ekran görüntüsü.png" and doc["status"] == "stored" and doc["is_image"]
    assert doc["url"] == f"/documents/{doc['id']}" and doc["content_type"] == "image/png"
    # the owning console is told live, as for a customer message
    await until(_has(collected, number))

    fin = await login(client, "fin")
    listed = await client.get(f"/api/v1/tickets/{number}/documents", headers=fin)
    assert listed.status_code == 200 and [d["id"] for d in listed.json()["documents"]] == [doc["id"]]
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=fin)).json()
    assert ticket["transcript"][-1]["text"] == "\N{PAPERCLIP} ekran görüntüsü.png"

    got = await client.get(doc["url"], headers=fin)
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"].startswith("inline;")
    with Image.open(io.BytesIO(got.content)) as img:
        assert img.size == (120, 80)
    # the customer downloads their own too; both downloads are in the audit log
    assert (await client.get(doc["url"], headers=customer.headers)).content == got.content
    async with sessionmaker() as session:
        actions = [
            (e.actor, e.action)
            for e in (await session.execute(select(AuditEntry).where(AuditEntry.action.like("document_%")))).scalars()
        ]
    assert actions == [("customer", "document_upload"), ("fin", "document_download"), ("customer", "document_download")]
    assert len(stored_files(document_dir)) == 1


def _has(collected: Collected, number: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return any(e.get("type") == "message.new" and e.get("ticket_number") == number for e in collected.events)

    return check


async def test_a_pdf_is_an_attachment(client: httpx.AsyncClient) -> None:
    customer = new_customer()
    number = await hand_off(client, customer)
    res = await upload(client, customer, pdf(), "dekont.pdf", "application/pdf")
    assert res.status_code == 201, res.text
    got = await client.get(res.json()["document"]["url"], headers=await login(client, "fin"))
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="dekont.pdf"')
    assert got.content == pdf()  # a PDF is checked, not rewritten
    assert number.startswith("T-")


async def test_a_file_sent_before_the_ticket_joins_it(client: httpx.AsyncClient) -> None:
    customer = new_customer()
    res = await upload(client, customer, png())
    assert res.status_code == 201, res.text
    fin = await login(client, "fin")
    # no ticket yet: no agent sees it
    assert (await client.get(res.json()["document"]["url"], headers=fin)).status_code == 404
    number = await hand_off(client, customer)
    listed = (await client.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
    assert [d["id"] for d in listed] == [res.json()["document"]["id"]]
    assert (await client.get(listed[0]["url"], headers=fin)).status_code == 200


async def test_the_path_in_a_file_name_goes_nowhere(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], document_dir: Path, tmp_path: Path
) -> None:
    customer = new_customer()
    await hand_off(client, customer)
    res = await upload(client, customer, png(), "../../etc/passwd.png")
    assert res.status_code == 201, res.text
    assert res.json()["document"]["filename"] == "passwd.png"
    async with sessionmaker() as session:
        doc = (await session.execute(select(Document))).scalar_one()
    assert re.fullmatch(r"[0-9a-f]{32}", doc.storage_key)
    [path] = stored_files(document_dir)
    assert path.name == doc.storage_key and path.resolve().is_relative_to(document_dir.resolve())
    assert not (tmp_path / "etc").exists()


ATTACKS = [
    (
        "wrong extension",
        "photo.png",
        b"MZ\x90\x00" + b"\0" * 60 + b"This program cannot be run in DOS mode",
        "unsupported_type",
    ),
    ("svg with script", "logo.svg", svg_with_script(), "unsupported_type"),
    ("svg named png", "logo.png", svg_with_script(), "unsupported_type"),
    ("zip named jpg", "cat.jpg", zip_bytes(), "unsupported_type"),
    ("html", "page.png", b"<!doctype html><script>alert(1)</script>", "unsupported_type"),
    ("pdf with javascript", "invoice.pdf", pdf(javascript="app.alert(1)"), "pdf_script"),
    ("pdf open action", "invoice.pdf", pdf(open_action=True), "pdf_script"),
    ("encrypted pdf", "locked.pdf", pdf(encrypt=True), "pdf_encrypted"),
    ("decompression bomb", "huge.png", png_bomb(), "image_too_large"),
    ("truncated png", "broken.png", png()[:60], "unreadable"),
    ("empty", "empty.png", b"", "empty"),
]


@pytest.mark.parametrize(("label", "name", "data", "code"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_an_attack_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    document_dir: Path,
    label: str,
    name: str,
    data: bytes,
    code: str,
) -> None:
    customer = new_customer()
    await hand_off(client, customer)
    res = await upload(client, customer, data, name)
    assert res.status_code == 422, res.text
    assert res.json()["error"]["code"] == code
    assert stored_files(document_dir) == [] and await count(sessionmaker, Document) == 0


async def test_a_polyglot_is_kept_as_a_clean_image_only(client: httpx.AsyncClient, document_dir: Path) -> None:
    customer = new_customer()
    await hand_off(client, customer)
    tail = zip_bytes() + b"<html><script>alert(1)</script></html>"
    res = await upload(client, customer, jpeg_with_gps() + tail, "gifar.jpg", "image/jpeg")
    assert res.status_code == 201, res.text
    [path] = stored_files(document_dir)
    kept = path.read_bytes()
    assert kept.endswith(b"\xff\xd9") and b"PK\x03\x04" not in kept and b"<script" not in kept and b"SpyCam" not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.format == "JPEG" and len(img.getexif()) == 0


async def test_every_refusal_reads_in_turkish_and_english() -> None:
    labels = page_labels("webchat")
    assert set(labels) == {"tr", "en"}
    for keys in labels.values():
        missing = [code for code in REFUSAL_CODES if f"doc_{code}" not in keys]
        assert missing == []


async def _post_raw(port: int, head: str, chunks: AsyncIterator[bytes]) -> bytes:
    """POST as a browser would, reading the answer while the body is still
    being sent (the service answers before it has read it all)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        with contextlib.suppress(OSError):
            writer.write(head.encode())
            async for chunk in chunks:
                writer.write(chunk)
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        return await asyncio.wait_for(reader.read(4096), 20)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()


async def _megabytes(count: int, *, chunked: bool = False) -> AsyncIterator[bytes]:
    for _ in range(count):
        data = b"\0" * 1024 * 1024
        yield b"%x\r\n%s\r\n" % (len(data), data) if chunked else data


async def test_a_50_mb_file_is_refused_before_it_is_read(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], document_dir: Path
) -> None:
    customer = new_customer()
    await hand_off(client, customer)
    port = int(str(client.base_url).rstrip("/").rsplit(":", 1)[1])
    head = "POST /chat/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in customer.headers.items()
    )
    form = "Content-Type: multipart/form-data; boundary=x\r\n"
    # a declared 50 MB: refused on the header, before the body is read
    declared = await _post_raw(port, f"{head}{form}Content-Length: {50 * 1024 * 1024}\r\n\r\n", _megabytes(50))
    # streamed without a length: cut off at the limit
    streamed = await _post_raw(port, f"{head}{form}Transfer-Encoding: chunked\r\n\r\n", _megabytes(50, chunked=True))
    for answer in (declared, streamed):
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":"too_large"' in answer
    assert stored_files(document_dir) == [] and await count(sessionmaker, Document) == 0


async def test_a_file_over_the_setting_is_too_large(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path
) -> None:
    base = await start_documents_app(start_app, db_url, tmp_path / "d", document_max_bytes=1000)
    async with httpx.AsyncClient(base_url=base) as c:
        res = await upload(c, new_customer(), png((400, 400), (1, 2, 3)) + b"\0" * 2000)
    assert res.status_code == 413 and res.json()["error"]["code"] == "too_large"


async def test_a_scanner_that_is_down_holds_the_file(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path
) -> None:
    base = await start_documents_app(start_app, db_url, tmp_path / "d", clamd_address=f"127.0.0.1:{free_port()}")
    async with httpx.AsyncClient(base_url=base) as c:
        customer = new_customer()
        number = await hand_off(c, customer)
        res = await upload(c, customer, png())
        assert res.status_code == 201, res.text
        doc = res.json()["document"]
        assert doc["status"] == "held"
        assert [p.name for p in (tmp_path / "d").rglob("*") if p.is_file()]  # kept, never lost
        fin = await login(c, "fin")
        listed = (await c.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
        assert [d["status"] for d in listed] == ["held"]
        for headers in (fin, customer.headers):
            held = await c.get(doc["url"], headers=headers)
            assert held.status_code == 409 and held.json()["error"]["code"] == "document_held"


# --- who may see what -------------------------------------------------------


async def _setup_access(client: httpx.AsyncClient) -> tuple[Customer, str, str]:
    owner = new_customer()
    number = await hand_off(client, owner, "finance")
    res = await upload(client, owner, png())
    assert res.status_code == 201, res.text
    return owner, number, res.json()["document"]["url"]


async def test_another_customer_or_department_sees_a_missing_document(client: httpx.AsyncClient) -> None:
    owner, number, url = await _setup_access(client)
    other = new_customer()
    await hand_off(client, other, "account")
    missing_url = "/documents/999999"
    acc = await login(client, "acc")
    strangers = {
        "another customer": other.headers,
        "a customer with a forged secret": {**other.headers, "X-Conversation-Id": owner.conversation_id},
        "an agent of another department": acc,
        "anonymous": {},
        "a forged session": {"Authorization": "Bearer forged.token"},
    }
    for who, headers in strangers.items():
        answers = [await client.get(u, headers=headers) for u in (url, missing_url)]
        assert [a.status_code for a in answers] == [404, 404], who
        assert answers[0].content == answers[1].content, who
    assert (await client.get(url, headers=await login(client, "boss"))).status_code == 200  # a supervisor sees all
    assert (await client.get(url, headers=owner.headers)).status_code == 200
    # the ticket's list: another department's ticket is a missing ticket
    listed = await client.get(f"/api/v1/tickets/{number}/documents", headers=acc)
    missing = await client.get("/api/v1/tickets/T-999999/documents", headers=acc)
    assert (listed.status_code, listed.content) == (missing.status_code, missing.content) == (404, missing.content)
    assert (await client.get(f"/api/v1/tickets/{number}/documents")).status_code == 401


async def test_uploading_needs_the_conversation_secret(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner, _number, _url = await _setup_access(client)
    forged = {"X-Conversation-Id": owner.conversation_id, "X-Conversation-Secret": "0" * 64}
    for headers in ({}, forged, {"X-Conversation-Id": owner.conversation_id}, await login(client, "fin")):
        res = await client.post("/chat/documents", files={"file": ("a.png", png(), "image/png")}, headers=headers)
        assert res.status_code == 403 and res.json()["error"]["code"] == "conversation_refused"
    assert await count(sessionmaker, Document) == 1
    # the owner's transcript shows one line for the one document
    async with sessionmaker() as session:
        lines = (await session.execute(select(Message.text).where(Message.source_id.like("document:%")))).scalars()
        assert list(lines) == ["\N{PAPERCLIP} screenshot.png"]


async def test_no_file_field_is_a_clear_refusal(client: httpx.AsyncClient) -> None:
    customer = new_customer()
    res = await client.post("/chat/documents", files={"other": ("a.png", png(), "image/png")}, headers=customer.headers)
    assert res.status_code == 422 and res.json()["error"]["code"] == "no_file"
    res = await client.post("/chat/documents", content=b"not a form", headers=customer.headers)
    assert res.status_code == 422 and res.json()["error"]["code"] == "no_file"


async def test_directory_store_round_trip(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "s")
    await store.put("a" * 32, b"bytes")
    assert await store.get("a" * 32) == b"bytes"
    await store.delete("a" * 32)
    await store.delete("a" * 32)
    with pytest.raises(LookupError):
        await store.get("a" * 32)
    with pytest.raises(ValueError):
        await store.put("../../etc/passwd", b"x")
