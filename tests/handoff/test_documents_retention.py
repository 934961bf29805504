"""Retention removes documents with their ticket: rows and stored bytes, in
the directory store and in the SQL store; a document that never reached a
ticket goes at the purge age too; a younger one stays."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.documents.storage import DirectoryStore, DocumentStore, SqlStore
from handoff.models import Document, DocumentBlob
from handoff.services.retention import RetentionJob
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.documents_files import pdf, png
from tests.handoff.documents_helpers import hand_off, new_customer, start_documents_app, upload
from tests.handoff.helpers import login
from tests.handoff.test_retention import AGE, _shift_every_timestamp


async def _rows(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("store_kind", ["directory", "sql"])
async def test_documents_go_with_their_ticket(
    db_url: str,
    seed: Seed,
    start_app: StartApp,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    store_kind: str,
) -> None:
    directory = tmp_path / "documents"
    base = await start_documents_app(start_app, db_url, directory, document_store=store_kind)
    store: DocumentStore = DirectoryStore(directory) if store_kind == "directory" else SqlStore(sessionmaker)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        owner = new_customer()
        number = await hand_off(client, owner)
        for data, name, mime in ((png(), "a.png", "image/png"), (pdf(), "b.pdf", "application/pdf")):
            assert (await upload(client, owner, data, name, mime)).status_code == 201
        never_handed_off = new_customer()
        assert (await upload(client, never_handed_off, png(), "early.png")).status_code == 201
        fin = await login(client, "fin")
        assert (await client.post(f"/api/v1/tickets/{number}/claim", headers=fin)).status_code == 200
        assert (await client.post(f"/api/v1/tickets/{number}/resolve", json={}, headers=fin)).status_code == 200
    async with sessionmaker() as session:
        keys = list((await session.execute(select(Document.storage_key))).scalars())
    assert len(keys) == 3 and all([await store.get(k) for k in keys])

    await _shift_every_timestamp(engine, AGE)
    # a document sent today, of a conversation with no ticket yet: not old enough
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        assert (await upload(client, new_customer(), png(), "today.png")).status_code == 201

    job = RetentionJob(
        sessionmaker=sessionmaker,
        interval_seconds=3600,
        archive_after_days=30,
        purge_after_days=365,
        login_window_seconds=300,
        abandon_after_seconds=0,
        document_store=store,
    )
    # archived on the first run (closed long ago), purged with its documents on the second
    first = await job.run_once()
    second = await job.run_once()
    assert first is not None and second is not None
    assert first.documents + second.documents == 3
    async with sessionmaker() as session:
        left = list((await session.execute(select(Document.filename))).scalars())
    assert left == ["today.png"]
    for key in keys:
        with pytest.raises(LookupError):
            await store.get(key)
    if store_kind == "directory":
        assert len([p for p in directory.rglob("*") if p.is_file()]) == 1
    else:
        assert await _rows(sessionmaker, DocumentBlob) == 1
