"""Agent and department queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, AgentDepartment, Department

__all__ = [
    "get_agent",
    "get_agent_by_username",
    "insert_agent",
    "bump_session_epoch",
    "list_departments",
    "upsert_department",
]


async def get_agent(*, session: AsyncSession, agent_id: int) -> Agent | None:
    return await session.get(Agent, agent_id)


async def get_agent_by_username(*, session: AsyncSession, username: str) -> Agent | None:
    return (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()


async def insert_agent(
    *,
    session: AsyncSession,
    username: str,
    password_hash: str,
    display_name: str,
    role: str,
    departments: Sequence[str],
) -> Agent:
    agent = Agent(
        username=username,
        password_hash=password_hash,
        display_name=display_name,
        role=role,
        active=True,
        session_epoch=0,
        department_links=[AgentDepartment(department_id=d) for d in departments],
    )
    session.add(agent)
    await session.flush()
    return agent


async def bump_session_epoch(*, session: AsyncSession, agent_id: int) -> None:
    await session.execute(update(Agent).where(Agent.id == agent_id).values(session_epoch=Agent.session_epoch + 1))


async def list_departments(*, session: AsyncSession, active_only: bool = True) -> list[Department]:
    stmt = select(Department).order_by(Department.id)
    if active_only:
        stmt = stmt.where(Department.active.is_(True))
    return list((await session.execute(stmt)).scalars())


async def upsert_department(*, session: AsyncSession, dept_id: str, name_en: str, name_tr: str, active: bool) -> None:
    existing = await session.get(Department, dept_id)
    if existing is None:
        session.add(Department(id=dept_id, name_en=name_en, name_tr=name_tr, active=active))
    else:
        existing.name_en, existing.name_tr, existing.active = name_en, name_tr, active
    await session.flush()
