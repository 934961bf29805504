"""Alembic environment. Runs on a connection handed in by ``handoff.migrate``,
or on the settings' ``DATABASE_URL`` when invoked by the ``alembic`` command
itself."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from handoff.db import make_engine
from handoff.models import Base
from handoff.settings import load_settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or load_settings(require_secrets=False).database_url
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
