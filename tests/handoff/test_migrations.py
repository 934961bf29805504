"""The Alembic migrations and the models describe the same schema."""

import asyncio
import os
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.migrate import downgrade, is_current, upgrade
from handoff.models import Base
from handoff.settings import REPO_ROOT


async def _diff(engine: AsyncEngine) -> list:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
        )


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    assert await _diff(engine) == []


async def test_downgrade_then_upgrade(engine: AsyncEngine) -> None:
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert "tickets" not in tables
    await upgrade(engine)
    assert await _diff(engine) == []


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # replicas share PostgreSQL only
async def test_migrations_started_together_run_once(engine: AsyncEngine, db_url: str) -> None:
    """Several replicas or jobs running `migrate` at the same moment take
    turns (an advisory lock) and all leave the newest revision behind."""
    await downgrade(engine, "base")
    env = {**os.environ, "DATABASE_URL": db_url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "handoff",
            "migrate",
            env=env,
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [(await p.communicate())[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert await is_current(engine) and await _diff(engine) == []
