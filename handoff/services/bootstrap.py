"""First start: departments from the catalogue and demo agents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.repo import agents as agents_repo
from handoff.services.agents import create_agent
from support_rules.catalogue import load_catalogue

__all__ = ["sync_departments", "ensure_demo_agents", "DemoAgent"]


async def sync_departments(*, session: AsyncSession, catalogue_path: Path) -> list[str]:
    """Mirror the catalogue's departments; ones no longer listed become inactive."""
    listed = load_catalogue(catalogue_path).departments
    if not listed:
        raise ValueError(f"no departments in {catalogue_path}")
    for dept in listed:
        await agents_repo.upsert_department(
            session=session, dept_id=dept.id, name_en=dept.label("en"), name_tr=dept.label("tr"), active=True
        )
    ids = {d.id for d in listed}
    for stored in await agents_repo.list_departments(session=session, active_only=False):
        if stored.id not in ids:
            stored.active = False
    await session.flush()
    return sorted(ids)


@dataclass(frozen=True)
class DemoAgent:
    username: str
    role: str
    departments: tuple[str, ...]
    created: bool


async def ensure_demo_agents(*, session: AsyncSession, departments: list[str], password: str) -> list[DemoAgent]:
    """One agent per department (``agent_<dept>``), one ``supervisor`` and one
    content editor (``demo_editor``, the editors' pages only)."""
    wanted = [(f"agent_{d}", "agent", (d,)) for d in departments] + [
        ("supervisor", "supervisor", tuple(departments)),
        ("demo_editor", "editor", ()),
    ]
    result = []
    for username, role, depts in wanted:
        existing = await agents_repo.get_agent_by_username(session=session, username=username)
        if existing is None:
            await create_agent(
                session=session,
                username=username,
                password=password,
                display_name=username.replace("_", " ").title(),
                role=role,
                departments=depts,
            )
        result.append(DemoAgent(username, role, depts, existing is None))
    return result
