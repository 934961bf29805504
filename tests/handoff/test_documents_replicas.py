"""Two replicas of the service (``python -m handoff serve``, as the
deployment runs them) on this machine's PostgreSQL with the SQL document
store: a document uploaded through one is downloaded through the other.
With the directory store (one directory per replica, as separate hosts
would have) the other replica has no bytes to serve: the store is what
carries the document across."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from handoff.settings import REPO_ROOT
from stack.live import free_port, wait_until_up
from tests.handoff.conftest import Seed
from tests.handoff.documents_files import pdf, png
from tests.handoff.documents_helpers import CONVERSATION_KEY, hand_off, new_customer, upload
from tests.handoff.helpers import SECRET_KEY, SERVICE_TOKEN, login

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # replicas share PostgreSQL


@asynccontextmanager
async def replicas(db_url: str, tmp_path: Path, store: str) -> AsyncIterator[list[str]]:
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = {
                **os.environ,
                "PYTHONPATH": f"{REPO_ROOT / 'rules'}{os.pathsep}{REPO_ROOT}",
                "DATABASE_URL": db_url,
                "HANDOFF_PORT": str(port),
                "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
                "HANDOFF_SECRET_KEY": SECRET_KEY,
                "CONVERSATION_SECRET_KEY": CONVERSATION_KEY,
                "HANDOFF_DOCUMENT_STORE": store,
                "HANDOFF_DOCUMENT_DIR": str(tmp_path / f"documents-{name}"),
                "HANDOFF_CLAMD_ADDRESS": "",
                "HANDOFF_EVENTS_SOURCE": "off",
                "HANDOFF_LIVE_BUS": "postgres",
                "RASA_URL": "",
            }
            log = tmp_path / f"replica-{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "handoff", "serve"],
                cwd=tmp_path,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            processes.append(process)
            url = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_until_up, f"{url}/healthz", process, log, 60)
            urls.append(url)
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_a_document_uploaded_to_one_replica_downloads_from_the_other(
    db_url: str, seed: Seed, tmp_path: Path
) -> None:
    async with (
        replicas(db_url, tmp_path, "sql") as (url_a, url_b),
        httpx.AsyncClient(base_url=url_a, timeout=30) as on_a,
        httpx.AsyncClient(base_url=url_b, timeout=30) as on_b,
    ):
        customer = new_customer()
        number = await hand_off(on_a, customer)
        sent = {}
        for name, data, mime in (("screen.png", png(), "image/png"), ("receipt.pdf", pdf(), "application/pdf")):
            res = await upload(on_a, customer, data, name, mime)
            assert res.status_code == 201, res.text
            sent[name] = res.json()["document"]
        fin = await login(on_b, "fin")
        listed = (await on_b.get(f"/api/v1/tickets/{number}/documents", headers=fin)).json()["documents"]
        assert sorted(d["filename"] for d in listed) == ["receipt.pdf", "screen.png"]
        image = await on_b.get(sent["screen.png"]["url"], headers=fin)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        document = await on_b.get(sent["receipt.pdf"]["url"], headers=customer.headers)
        assert document.status_code == 200 and document.content == pdf()
    # the bytes are in PostgreSQL, not on either replica's disk
    assert not any(p.is_file() for p in tmp_path.glob("documents-*/**/*"))


async def test_with_a_directory_per_replica_the_other_has_nothing(db_url: str, seed: Seed, tmp_path: Path) -> None:
    async with (
        replicas(db_url, tmp_path, "directory") as (url_a, url_b),
        httpx.AsyncClient(base_url=url_a, timeout=30) as on_a,
        httpx.AsyncClient(base_url=url_b, timeout=30) as on_b,
    ):
        customer = new_customer()
        await hand_off(on_a, customer)
        res = await upload(on_a, customer, png())
        assert res.status_code == 201, res.text
        url = res.json()["document"]["url"]
        assert (await on_a.get(url, headers=customer.headers)).status_code == 200
        assert (await on_b.get(url, headers=customer.headers)).status_code == 404
