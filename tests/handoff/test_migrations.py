"""The Alembic migrations and the models describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.migrate import downgrade, upgrade
from handoff.models import Base


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
