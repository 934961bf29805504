"""Agent log-in, log-out and session checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import BadRequest, TooManyRequests, Unauthorized
from handoff.models import ROLES, Agent, utcnow
from handoff.repo import agents as agents_repo
from handoff.repo import audit as audit_repo
from handoff.security import PasswordPool, SessionSigner, hash_password
from handoff.services.login_limits import LoginLimiter

__all__ = ["login", "logout", "agent_from_token", "create_agent", "agent_json"]


def agent_json(agent: Agent) -> dict[str, object]:
    return {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
        "departments": agent.department_ids,
    }


async def login(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    username: str,
    password: str,
    address: str,
    signer: SessionSigner,
    limiter: LoginLimiter,
    passwords: PasswordPool,
    now: datetime | None = None,
) -> tuple[Agent, str]:
    """The attempt is counted before the password is checked (see
    handoff.services.login_limits); the check runs in ``passwords``' threads.
    Unlike other use cases this one opens its own short transactions (the
    look-up, then the audit entry), so no database connection is held while
    argon2 runs: log-ins waiting for a thread cannot drain the pool."""
    wait = await limiter.reserve(username, address)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"too many failed log-ins, try again in {seconds} s", code="login_rate_limited", retry_after=seconds
        )
    async with sessionmaker() as session:
        agent = await agents_repo.get_agent_by_username(session=session, username=username)
    ok = await passwords.verify(agent.password_hash if agent else None, password)
    if agent is None or not ok or not agent.active:
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    await limiter.succeeded(username, address)
    async with sessionmaker() as session, session.begin():
        await audit_repo.add_audit(
            session=session, actor=agent.username, agent_id=agent.id, action="login", at=now or utcnow()
        )
    return agent, signer.issue(agent.id, agent.session_epoch)


async def logout(*, session: AsyncSession, agent: Agent, now: datetime | None = None) -> None:
    await agents_repo.bump_session_epoch(session=session, agent_id=agent.id)
    await audit_repo.add_audit(
        session=session, actor=agent.username, agent_id=agent.id, action="logout", at=now or utcnow()
    )


async def agent_from_token(*, session: AsyncSession, token: str, signer: SessionSigner) -> Agent | None:
    claims = signer.verify(token)
    if claims is None:
        return None
    agent = await agents_repo.get_agent(session=session, agent_id=claims.agent_id)
    if agent is None or not agent.active or agent.session_epoch != claims.epoch:
        return None
    return agent


async def create_agent(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    display_name: str,
    role: str = "agent",
    departments: Sequence[str] = (),
) -> Agent:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise BadRequest("password must have at least 8 characters")
    return await agents_repo.insert_agent(
        session=session,
        username=username,
        password_hash=hash_password(password),
        display_name=display_name,
        role=role,
        departments=list(departments),
    )
