"""Engine and session factory. Built by a listener or a command, never at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Result, TextClause, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = [
    "make_engine",
    "make_sessionmaker",
    "is_sqlite",
    "normalise_url",
    "insert_for",
    "compiled_once",
    "named_values",
    "run_compiled",
    "hold_transaction",
]


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_for(session: AsyncSession) -> Any:
    """The dialect's ``insert`` (PostgreSQL or SQLite), for ``ON CONFLICT DO NOTHING``."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


# the dialects the statements of ``compiled_once`` are written in, with
# named binds (the drivers' own dialects render them as ``?`` or ``$1``)
_NAMED_DIALECTS = {"postgresql": postgresql.dialect, "sqlite": sqlite.dialect}
_COMPILED: dict[tuple[str, Callable[..., Any], tuple[ColumnElement[Any], ...]], TextClause] = {}


def compiled_once(session: AsyncSession, build: Callable[[Any], Any], *returning: ColumnElement[Any]) -> TextClause:
    """``build(insert)``'s statement (``insert``: the dialect's, as
    ``insert_for`` gives it; every value a named ``bindparam``), compiled
    once per dialect. SQLAlchemy finds a statement's compiled form by a key
    it derives from the statement, and the dialects' ``ON CONFLICT`` inserts
    have none, so they were compiled anew on every execution: more than
    half of the cost of storing a transcript line (657 against 284 µs in a
    loop on SQLite; bench/follower_replay.py has the follower's whole). Their
    SQL as a text statement is cached like any other; its binds keep their
    columns' types (what is sent is what the insert sent) and ``returning``
    are its result's columns."""
    name = session.bind.dialect.name
    key = (name, build, returning)
    found = _COMPILED.get(key)
    if found is None:
        compiled = build(insert_for(session)).compile(dialect=_NAMED_DIALECTS[name](paramstyle="named"))
        binds = [bindparam(bind_name, type_=bind.type) for bind_name, bind in compiled.binds.items()]
        found = text(compiled.string).bindparams(*binds)
        if returning:
            found = found.columns(*returning)  # type: ignore[assignment]
        _COMPILED[key] = found
    return found


def named_values(table: Any, *, leave_out: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A named ``bindparam`` for each column of ``table`` but ``leave_out``
    (the id the database gives), for an insert's ``values`` in a
    ``compiled_once`` builder: the values are given by name when it runs."""
    return {c.name: bindparam(c.name) for c in table.columns if c.name not in leave_out}


async def run_compiled(
    session: AsyncSession, build: Callable[[Any], Any], values: dict[str, Any], *returning: ColumnElement[Any]
) -> Result[Any]:
    """``compiled_once``'s statement run with ``values``. The session's
    pending changes are written first, as SQLAlchemy does before an ORM
    statement (autoflush) and not before a text one: a line for an object
    added just before still finds it."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    return await session.execute(compiled_once(session, build, *returning), values)


async def hold_transaction(session: AsyncSession) -> None:
    """Make sure the session's SQLite connection is inside a real
    transaction before a savepoint: Python's sqlite3 opens one only at the
    first write, and a SAVEPOINT outside a transaction is its own
    transaction, which RELEASE commits, so what the savepoint wrote would
    survive a rollback of the session. A write that changes nothing opens
    it. PostgreSQL is always in a transaction here: nothing to do."""
    if session.bind.dialect.name == "sqlite":
        await session.execute(text("UPDATE broker_cursors SET position = position WHERE 0"))
