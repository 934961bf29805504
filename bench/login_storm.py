"""Agents' requests while log-ins are guessed in parallel (issue 16, finding 2).

The handoff service in this process on a fresh SQLite file (or
``--database postgresql://…``, a database of its own, dropped afterwards):
``--guesses`` wrong log-ins at once at one username, while a logged-in
agent asks for ``/api/v1/queue`` in a loop. Prints the guesses' answers
(how many were verified: 401; refused before verifying: 429; errors) and
the agent's latencies.

    python -m bench.login_storm [--guesses 100] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from sanic import Sanic

from handoff.app import create_app
from handoff.db import make_engine, make_sessionmaker
from handoff.migrate import upgrade
from handoff.security import hash_password
from handoff.services.agents import create_agent
from handoff.services.bootstrap import sync_departments
from handoff.services.channel import RecordingChannel
from handoff.settings import REPO_ROOT, Settings
from stack.live import free_port

PASSWORD = "bench-password-123"


async def _prepare(url: str) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    async with make_sessionmaker(engine)() as session, session.begin():
        await sync_departments(session=session, catalogue_path=REPO_ROOT / "data" / "catalogue.yml")
        for name in ("target", "worker"):
            await create_agent(
                session=session, username=name, password=PASSWORD, display_name=name, departments=["finance"]
            )
    await engine.dispose()


async def _run(url: str, guesses: int) -> None:
    await _prepare(url)
    settings = Settings(database_url=url, service_token=uuid.uuid4().hex, secret_key=uuid.uuid4().hex)
    Sanic.test_mode = True
    app = create_app(settings, channel=RecordingChannel(), name=f"bench_{uuid.uuid4().hex[:6]}")
    app.config.MOTD = False
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    limits = httpx.Limits(max_connections=guesses + 10, max_keepalive_connections=guesses + 10)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as c:
            res = await c.post("/api/v1/auth/login", json={"username": "worker", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {res.json()['token']}"}
            c.cookies.clear()
            latencies: list[float] = []
            done = asyncio.Event()

            async def work() -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    assert (await c.get("/api/v1/queue", headers=headers)).status_code == 200
                    latencies.append(time.perf_counter() - started)

            worker = asyncio.create_task(work())
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(
                    c.post("/api/v1/auth/login", json={"username": "target", "password": f"x{i}"})
                    for i in range(guesses)
                )
            )
            storm = time.perf_counter() - started
            done.set()
            await worker
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
    statuses = Counter(r.status_code for r in answers)
    print(f"database: {url.split('://')[0]}, {guesses} parallel wrong log-ins at one username, in {storm:.2f} s")
    print(f"  answers: {dict(sorted(statuses.items()))} (401 = verified, 429 = refused before verifying)")
    if latencies:
        ms = sorted(1000 * v for v in latencies)
        print(
            f"  another agent's GET /api/v1/queue meanwhile: {len(ms)} requests, "
            f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"
        )


async def _with_postgres(admin_url: str, guesses: int) -> None:
    import asyncpg

    name = f"bench_login_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        await _run(f"{admin_url.rsplit('/', 1)[0]}/{name}", guesses)
    finally:
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.login_storm")
    parser.add_argument("--guesses", type=int, default=100)
    parser.add_argument("--database", help="a PostgreSQL admin URL; a database of its own is created in it")
    args = parser.parse_args()
    hash_password("warm-up")  # argon2's first call allocates
    if args.database:
        asyncio.run(_with_postgres(args.database, args.guesses))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.guesses))


if __name__ == "__main__":
    main()
