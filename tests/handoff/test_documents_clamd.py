"""Virus scanning with a real clamd (Debian's clamav-daemon) on a signature
file the test writes: the EICAR test file is refused, clean files pass,
a clamd that goes away holds files and a held file is released by the
next scan that passes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.documents.scanner import ClamdScanner, NoScanner, Verdict, make_scanner
from handoff.models import Document
from stack.live import free_port
from tests.handoff.clamd import Clamd, running_clamd
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import EICAR, pdf, png
from tests.handoff.documents_helpers import hand_off, new_customer, start_documents_app, upload
from tests.handoff.helpers import login


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    with running_clamd(tmp_path_factory.mktemp("clamd")) as daemon:
        yield daemon


async def test_the_scanner_speaks_instream(clamd: Clamd) -> None:
    scanner = ClamdScanner(clamd.address)
    infected = await scanner.scan(EICAR)
    assert infected.verdict is Verdict.INFECTED and "EICAR" in (infected.signature or "")
    assert (await scanner.scan(png())).verdict is Verdict.CLEAN
    # chunked over the 64 KiB chunk size, the signature straddling nothing special
    assert (await scanner.scan(b"\0" * 200_000 + EICAR)).verdict is Verdict.INFECTED
    assert (await ClamdScanner(f"127.0.0.1:{free_port()}", timeout=2).scan(png())).verdict is Verdict.UNAVAILABLE
    assert isinstance(make_scanner(""), NoScanner) and (await NoScanner().scan(EICAR)).verdict is Verdict.NOT_SCANNED


@pytest.mark.parametrize("name", ["eicar.com", "eicar.png", "invoice.pdf"])
async def test_the_eicar_file_is_refused_and_nothing_is_kept(
    clamd: Clamd,
    db_url: str,
    seed: Seed,
    start_app: StartApp,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    name: str,
) -> None:
    base = await start_documents_app(start_app, db_url, tmp_path / "d", clamd_address=clamd.address)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        customer = new_customer()
        await hand_off(client, customer)
        for data in (EICAR, pdf() + b"\n" + EICAR):
            res = await upload(client, customer, data, name, "application/octet-stream")
            assert res.status_code == 422, res.text
            assert res.json()["error"]["code"] == "infected"
        clean = await upload(client, customer, png())
        assert clean.status_code == 201 and clean.json()["document"]["status"] == "stored"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 1
    assert len([p for p in (tmp_path / "d").rglob("*") if p.is_file()]) == 1


async def test_a_held_file_is_released_when_clamd_answers_again(
    db_url: str, seed: Seed, start_app: StartApp, tmp_path: Path
) -> None:
    """clamd down at upload: the file is held, not lost and not served;
    the first download after clamd is back scans it and serves it."""
    port = free_port()
    base = await start_documents_app(start_app, db_url, tmp_path / "d", clamd_address=f"127.0.0.1:{port}")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        customer = new_customer()
        await hand_off(client, customer)
        res = await upload(client, customer, png())
        assert res.status_code == 201 and res.json()["document"]["status"] == "held"
        url = res.json()["document"]["url"]
        fin = await login(client, "fin")
        assert (await client.get(url, headers=fin)).status_code == 409
        with running_clamd(tmp_path / "clamd", port=port):
            released = await client.get(url, headers=fin)
        assert released.status_code == 200 and released.content.startswith(b"\x89PNG")
        number = (await client.get("/api/v1/queue", headers=fin)).json()["queued"][0]["ticket_number"]
        listed = (await client.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
        assert [d["status"] for d in listed] == ["stored"]
