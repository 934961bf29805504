"""The commands: bootstrap, retention, follow, and serve's refusal without secrets."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from handoff.cli import main
from handoff.db import make_engine, make_sessionmaker
from handoff.models import Agent, Department, LoginFailure, Ticket, utcnow
from handoff.security import verify_password
from handoff.settings import REPO_ROOT
from tests.handoff.helpers import until
from tests.handoff.rasa_events import T0, SqlBroker, transcript, user_event


def _env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DEMO_AGENT_PASSWORD", "demo-password-123")
    monkeypatch.delenv("HANDOFF_DEV_INSECURE", raising=False)


async def _reset(db_url: str) -> None:
    """The PostgreSQL database is shared by the run: start from no tables."""
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        else:  # every table there is, whatever migrations made it
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            await conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in names:
                await conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
    await engine.dispose()


async def _agents(db_url: str) -> tuple[list[Agent], list[str]]:
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as s:
        agents = list((await s.execute(select(Agent).order_by(Agent.username))).scalars())
        depts = list((await s.execute(select(Department.id).order_by(Department.id))).scalars())
    await engine.dispose()
    return agents, depts


def test_bootstrap_creates_once_and_prints_credentials(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_reset(db_url))
    _env(monkeypatch, db_url)
    assert main(["bootstrap"]) == 0
    out = capsys.readouterr().out
    assert "/console/" in out and "demo-password-123" in out and "agent_finance" in out and "created" in out
    agents, depts = asyncio.run(_agents(db_url))
    assert {"account", "finance", "technical", "other"} <= set(depts)
    assert {a.username for a in agents} == {f"agent_{d}" for d in depts} | {"supervisor", "demo_editor"}
    supervisor = next(a for a in agents if a.username == "supervisor")
    assert supervisor.role == "supervisor" and verify_password(supervisor.password_hash, "demo-password-123")
    editor = next(a for a in agents if a.username == "demo_editor")
    assert editor.role == "editor" and not editor.department_links
    assert main(["bootstrap"]) == 0
    assert "exists" in capsys.readouterr().out
    assert len(asyncio.run(_agents(db_url))[0]) == len(agents)


def test_migrate_with_catalogue_creates_departments_and_no_agents(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deployment's one-off migration job: schema and departments, no demo accounts."""
    asyncio.run(_reset(db_url))
    _env(monkeypatch, db_url)
    assert main(["migrate", "--catalogue"]) == 0
    assert "finance" in capsys.readouterr().out
    agents, depts = asyncio.run(_agents(db_url))
    assert agents == [] and {"account", "finance", "technical", "other"} <= set(depts)
    assert main(["migrate", "--catalogue"]) == 0  # again: nothing changes
    assert asyncio.run(_agents(db_url))[1] == depts


def test_bootstrap_needs_demo_password(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, db_url)
    monkeypatch.delenv("DEMO_AGENT_PASSWORD")
    assert main(["bootstrap"]) == 2


def test_serve_refuses_without_secrets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("HANDOFF_SERVICE_TOKEN", "HANDOFF_SECRET_KEY", "HANDOFF_DEV_INSECURE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    assert "HANDOFF_SERVICE_TOKEN" in capsys.readouterr().err


def test_serve_warns_loudly_when_it_made_up_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("HANDOFF_SERVICE_TOKEN", "HANDOFF_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HANDOFF_DEV_INSECURE", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert main(["serve"]) == 2  # not migrated: it stops after the warning
    err = capsys.readouterr().err
    assert "HANDOFF_DEV_INSECURE=1: generated a random HANDOFF_SERVICE_TOKEN and a random HANDOFF_SECRET_KEY" in err
    assert "export HANDOFF_SERVICE_TOKEN=" in err and "export HANDOFF_SECRET_KEY=" in err
    assert "insecure-development-secret" not in err


def test_retention_command(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_reset(db_url))
    _env(monkeypatch, db_url)
    assert main(["bootstrap"]) == 0

    async def add_closed(age_days: int) -> None:
        engine = make_engine(db_url)
        closed = utcnow() - timedelta(days=age_days)
        async with make_sessionmaker(engine)() as s, s.begin():
            s.add(
                Ticket(
                    conversation_id=f"c{age_days}",
                    idempotency_key="k",
                    channel="web",
                    language="en",
                    username=None,
                    department_id="finance",
                    topic_id="deposit",
                    priority="normal",
                    priority_rank=2,
                    priority_reason="r",
                    summary={},
                    status="resolved",
                    created_at=closed,
                    updated_at=closed,
                    resolved_at=closed,
                    closed_at=closed,
                )
            )
        await engine.dispose()

    async def fail_log_ins() -> None:
        from handoff.services.login_limits import LoginLimiter, ThrottleRules

        engine = make_engine(db_url)
        limiter = LoginLimiter(make_sessionmaker(engine), ThrottleRules(window_seconds=300))
        await limiter.reserve("old-typo", "10.0.0.1", now=utcnow() - timedelta(hours=2))  # two rows: user and address
        await limiter.reserve("recent", "10.0.0.2")
        await engine.dispose()

    async def failures_left() -> int:
        engine = make_engine(db_url)
        async with make_sessionmaker(engine)() as s:
            count = await s.scalar(select(func.count()).select_from(LoginFailure))
        await engine.dispose()
        return int(count or 0)

    for age in (5, 50, 500):
        asyncio.run(add_closed(age))
    asyncio.run(fail_log_ins())
    capsys.readouterr()
    assert main(["retention", "--archive-after-days", "30", "--purge-after-days", "365"]) == 0
    assert "archived 2 ticket(s), purged 1 ticket(s), forgot 2 failed log-in(s)" in capsys.readouterr().out
    assert asyncio.run(failures_left()) == 2  # the recent ones still count


def test_serve_refuses_an_unmigrated_database(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "t")
    monkeypatch.setenv("HANDOFF_SECRET_KEY", "k")
    assert main(["serve"]) == 2
    assert "not migrated" in capsys.readouterr().err


def test_follow_command(tmp_path: Path, broker: SqlBroker) -> None:
    db = tmp_path / "handoff.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "RASA_EVENTS_URL": broker.url,
        "HANDOFF_EVENTS_SOURCE": "sql",
    }
    subprocess.run(
        [sys.executable, "-m", "handoff", "migrate"], env=env, cwd=REPO_ROOT, check=True, capture_output=True
    )
    broker.publish(user_event("cli-1", "komut satırı", T0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "handoff", "follow"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        async def stored() -> bool:
            engine = make_engine(f"sqlite+aiosqlite:///{db}")
            try:
                return [line.text for line in await transcript(make_sessionmaker(engine), "cli-1")] == ["komut satırı"]
            finally:
                await engine.dispose()

        asyncio.run(until(stored))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out.decode()
