"""Fixtures: every database test runs on SQLite and on the local PostgreSQL.

PostgreSQL: one fresh, uniquely named database per run (created from
``HANDOFF_TEST_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``),
migrated once, emptied before each test and dropped at the end.
SQLite: a migrated template file copied for each test.
``HANDOFF_TEST_BACKENDS=sqlite`` limits a run to SQLite.
Every test that needs a running Sanic app starts it with ``start_app``
(``server`` is the handoff service started that way).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from sanic import Sanic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.db import make_engine, make_sessionmaker
from handoff.live_bus import InMemoryLiveBus, LiveUpdate
from handoff.migrate import upgrade
from handoff.models import Agent, Base
from handoff.repo.agents import insert_agent
from handoff.security import hash_password
from handoff.services.bootstrap import sync_departments
from handoff.services.channel import RecordingChannel
from handoff.settings import REPO_ROOT
from tests.handoff.helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, AppServer, make_settings
from tests.handoff.rasa_events import SqlBroker

Sanic.test_mode = True

PG_ADMIN_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("HANDOFF_TEST_BACKENDS", "sqlite,postgres").split(",") if b]


def _run(coro):
    return asyncio.run(coro)


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(statement: str) -> None:
    """One statement on the server's admin database (outside a transaction)."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"handoff_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        await _admin(f'CREATE DATABASE "{name}"')
        engine = make_engine(_with_db(PG_ADMIN_URL, name))
        await upgrade(engine)
        await engine.dispose()

    async def drop() -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    _run(create())
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        _run(drop())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def create() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await engine.dispose()

    _run(create())
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "handoff.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    return request.getfixturevalue("pg_url")


async def _empty(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url, pool_size=60)
    await _empty(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@dataclass
class Seed:
    agents: dict[str, Agent]


@pytest.fixture(scope="session")
def password_hash() -> str:
    """Hashed once: argon2 is slow on purpose."""
    return hash_password(PASSWORD)


@pytest.fixture
async def seed(sessionmaker: async_sessionmaker[AsyncSession], password_hash: str) -> Seed:
    """Departments from the catalogue; agents for finance, account, and a supervisor."""
    people = {
        "fin": ("Fatma Finans", "agent", ["finance"]),
        "acc": ("Ahmet Account", "agent", ["account"]),
        "boss": ("Selin Supervisor", "supervisor", ["finance", "account", "technical", "other"]),
    }
    async with sessionmaker() as session, session.begin():
        await sync_departments(session=session, catalogue_path=REPO_ROOT / "data" / "catalogue.yml")
        agents = {
            name: await insert_agent(
                session=session,
                username=name,
                password_hash=password_hash,
                display_name=display,
                role=role,
                departments=depts,
            )
            for name, (display, role, depts) in people.items()
        }
    return Seed(agents)


@dataclass
class Running:
    app: Sanic
    base_url: str
    channel: RecordingChannel


StartApp = Callable[..., Awaitable[AppServer]]


@pytest.fixture
async def start_app() -> AsyncIterator[StartApp]:
    """Starts Sanic apps on real sockets in the test's event loop:
    ``await start_app(app)`` or ``await start_app(app, port)`` gives the
    running :class:`AppServer`; whatever is still running stops at the end of
    the test. Every test that needs a running app starts it here."""
    started: list[AppServer] = []

    async def start(app: Sanic, port: int | None = None) -> AppServer:
        running = AppServer(app, port)
        await running.start()
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in reversed(started):
            await running.stop()


@pytest.fixture
async def server(db_url: str, seed: Seed, start_app: StartApp) -> Running:
    """The real app on a real socket, in the test's event loop."""
    channel = RecordingChannel()
    app = create_app(
        # 3 free log-in failures, then 10 minutes' wait: no test outlasts it
        make_settings(db_url, login_max_failures=3, login_delay_seconds=600.0, login_max_delay_seconds=600.0),
        channel=channel,
        name=f"handoff_{uuid.uuid4().hex[:8]}",
    )
    return Running(app, (await start_app(app)).base_url, channel)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium for the browser tests (console, web chat)."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def client(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
        yield c


@pytest.fixture
def bus() -> InMemoryLiveBus:
    return InMemoryLiveBus()


@dataclass
class Collected:
    """Live updates published on ``bus`` during a test."""

    events: list[LiveUpdate] = field(default_factory=list)


@pytest.fixture
async def collected(bus: InMemoryLiveBus) -> AsyncIterator[Collected]:
    out = Collected()

    async def pump() -> None:
        async with bus.subscribe() as sub:
            while True:
                event = await sub.get()
                if event is not None:
                    out.events.append(event)

    task = asyncio.create_task(pump())
    while bus.subscriber_count == 0:
        await asyncio.sleep(0)
    yield out
    task.cancel()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[SqlBroker]:
    """Rasa's SQL event broker on a SQLite file of the test's own."""
    b = SqlBroker(tmp_path / "events.db")
    yield b
    b.close()
