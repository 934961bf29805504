"""Queue claims on PostgreSQL: 50 agents at once take tickets from one
department's queue with the service's own claim (handoff.services.tickets.
claim_next: the FOR UPDATE SKIP LOCKED update, the ticket read and the audit
row, in one transaction, on an engine made by handoff.db.make_engine as the
service makes it), until the queue is empty. Beside it, in the same run and
on the same server, pgbench's rate of single-row updates with as many
clients, and the claim statement alone from plain asyncpg (the ceiling of
a Python client without the ORM). Every claim is checked afterwards: a ticket claimed twice, lost, or
owned by another agent than the one that claimed it is counted.

Run with the handoff environment: ``.venv/handoff/bin/python -m bench.queue_claims``.
PostgreSQL: ``BENCH_PG_URL`` (default postgresql://postgres@127.0.0.1:5432),
databases ``bench_claims`` and ``bench_pgbench`` of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import table, write_results
from handoff.db import make_engine, make_sessionmaker
from handoff.migrate import upgrade
from handoff.models import Agent, Ticket, utcnow
from handoff.services import tickets as tickets_svc
from handoff.services.bootstrap import sync_departments
from handoff.settings import REPO_ROOT
from stack.queue_load import fill_queue
from support_rules.tickets import ASSIGNED

PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
CLAIMS_DB, PGBENCH_DB = "bench_claims", "bench_pgbench"
UPDATE_SCRIPT = (
    "\\set aid random(1, 100000 * :scale)\nUPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n"
)


async def recreate(name: str) -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def fill(sm: async_sessionmaker[AsyncSession], n_tickets: int, n_agents: int) -> list[int]:
    async with sm() as s, s.begin():
        await sync_departments(session=s, catalogue_path=REPO_ROOT / "data" / "catalogue.yml")
        return await fill_queue(
            session=s,
            name="bench",
            n_tickets=n_tickets,
            n_agents=n_agents,
            password_hash="x",
            topic_id="withdrawal",
            languages=("en", "tr"),
            reason="benchmark",
        )


async def claims_run(n_tickets: int, n_agents: int, pool_size: int) -> dict:
    await recreate(CLAIMS_DB)
    engine = make_engine(f"{PG}/{CLAIMS_DB}", pool_size=pool_size)
    try:
        await upgrade(engine)
        sm = make_sessionmaker(engine)
        agent_ids = await fill(sm, n_tickets, n_agents)
        async with sm() as s:
            agents = {a.id: a for a in (await s.execute(select(Agent).where(Agent.id.in_(agent_ids)))).scalars()}
            for a in agents.values():
                a.department_ids  # noqa: B018 - loaded while the session is open
                s.expunge(a)
        claimed: dict[int, list[int]] = {a: [] for a in agent_ids}
        latencies: list[float] = []
        go = asyncio.Event()

        async def agent_loop(agent_id: int) -> None:
            await go.wait()
            while True:
                began = time.perf_counter()
                async with sm() as s, s.begin():
                    ticket = await tickets_svc.claim_next(session=s, agent=agents[agent_id])
                latencies.append(time.perf_counter() - began)
                if ticket is None:
                    return
                claimed[agent_id].append(ticket.id)

        tasks = [asyncio.create_task(agent_loop(a)) for a in agent_ids]
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        everything = [t for ids in claimed.values() for t in ids]
        counts = Counter(everything)
        double = sum(c - 1 for c in counts.values() if c > 1)
        owner = {t: a for a, ids in claimed.items() for t in ids}
        async with sm() as s:
            rows = (await s.execute(select(Ticket.id, Ticket.assignee_id, Ticket.status))).all()
        wrong_owner = sum(1 for t, assignee, _ in rows if t in owner and owner[t] != assignee)
        unclaimed = sum(1 for _, _, status in rows if status != ASSIGNED)
        latencies.sort()
        return {
            "claims": len(everything),
            "elapsed_s": round(elapsed, 2),
            "claims_per_s": round(len(everything) / elapsed, 1),
            "double_claims": double,
            "wrong_owner": wrong_owner,
            "unclaimed": unclaimed,
            "claim_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "claim_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
            "agents_with_work": sum(1 for ids in claimed.values() if ids),
        }
    finally:
        await engine.dispose()


CLAIM_SQL = """
UPDATE tickets SET status = 'assigned', assignee_id = $1, assigned_at = $2, updated_at = $2
WHERE id = (SELECT id FROM tickets WHERE status = 'queued' AND archived_at IS NULL AND department_id = ANY($3::varchar[])
            ORDER BY priority_rank, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND status = 'queued'
RETURNING id
"""


async def raw_sql_run(n_tickets: int, n_agents: int) -> dict:
    """The same claim statement as handoff.repo.tickets.claim_next, sent by
    plain asyncpg (one connection per agent, no ORM, no ticket read, no
    audit row): how fast a Python client can claim at all."""
    await recreate(CLAIMS_DB)
    engine = make_engine(f"{PG}/{CLAIMS_DB}")
    try:
        await upgrade(engine)
        agent_ids = await fill(make_sessionmaker(engine), n_tickets, n_agents)
    finally:
        await engine.dispose()
    pool = await asyncpg.create_pool(f"{PG}/{CLAIMS_DB}", min_size=n_agents, max_size=n_agents)
    claimed: list[int] = []
    try:

        async def agent_loop(agent_id: int) -> None:
            async with pool.acquire() as conn:
                statement = await conn.prepare(CLAIM_SQL)
                while True:
                    ticket_id = await statement.fetchval(agent_id, utcnow(), ["finance"])
                    if ticket_id is None:
                        return
                    claimed.append(ticket_id)

        began = time.perf_counter()
        await asyncio.gather(*(agent_loop(a) for a in agent_ids))
        elapsed = time.perf_counter() - began
    finally:
        await pool.close()
    counts = Counter(claimed)
    return {
        "sql_claims_per_s": round(len(claimed) / elapsed, 1),
        "sql_double_claims": sum(c - 1 for c in counts.values() if c > 1),
    }


def pg_args() -> list[str]:
    url = urlparse(PG)
    return ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]


def pgbench_init(scale: int) -> None:
    asyncio.run(recreate(PGBENCH_DB))
    subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), *pg_args(), PGBENCH_DB], check=True, capture_output=True)


def pgbench_updates(clients: int, seconds: int, scale: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(UPDATE_SCRIPT)
    try:
        done = subprocess.run(
            [
                "pgbench",
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-D",
                f"scale={scale}",
                "-f",
                f.name,
                *pg_args(),
                PGBENCH_DB,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(f.name).unlink()
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if not found:
        raise RuntimeError(done.stdout + done.stderr)
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--pool-size",
        type=int,
        default=10,
        help="make_engine's pool_size (the service's default: 10, plus as many overflow)",
    )
    args = parser.parse_args()
    scale = 1
    pgbench_init(scale)
    runs = []
    for repeat in range(args.repeats):
        # alternate which side goes first, so neither always has the warmer server
        order = ["claims", "sql", "pgbench"] if repeat % 2 == 0 else ["pgbench", "sql", "claims"]
        run: dict = {}
        for side in order:
            if side == "claims":
                run.update(asyncio.run(claims_run(args.tickets, args.agents, args.pool_size)))
            elif side == "sql":
                run.update(asyncio.run(raw_sql_run(args.tickets, args.agents)))
            else:
                run["pgbench_updates_per_s"] = round(pgbench_updates(args.agents, args.pgbench_seconds, scale), 1)
        run["ratio"] = round(run["claims_per_s"] / run["pgbench_updates_per_s"], 3)
        run["sql_ratio"] = round(run["sql_claims_per_s"] / run["pgbench_updates_per_s"], 3)
        runs.append(run)
        print(
            f"run {repeat + 1}/{args.repeats}: {run['claims_per_s']} claims/s, pgbench {run['pgbench_updates_per_s']} updates/s, "
            f"ratio {run['ratio']}, plain asyncpg claims {run['sql_claims_per_s']}/s, double claims {run['double_claims']}, wrong owner {run['wrong_owner']}, "
            f"unclaimed {run['unclaimed']}",
            flush=True,
        )
    keys = [
        "claims_per_s",
        "pgbench_updates_per_s",
        "ratio",
        "sql_claims_per_s",
        "sql_ratio",
        "claim_p50_ms",
        "claim_p95_ms",
    ]
    medians = {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}
    totals = {k: sum(r[k] for r in runs) for k in ("double_claims", "wrong_owner", "unclaimed", "sql_double_claims")}
    print()
    print(table([[k, v] for k, v in {**medians, **totals}.items()], ["median of runs / total", "value"]))
    met = medians["ratio"] >= 0.5 and totals["double_claims"] == 0
    print(f"target claims >= 0.5 x pgbench single-row updates, no double claim: {'met' if met else 'missed'}")
    write_results(
        "queue_claims",
        {
            "agents": args.agents,
            "tickets": args.tickets,
            "pool_size": args.pool_size,
            "medians": medians,
            "totals": totals,
            "runs": runs,
            "target_met": met,
        },
    )
    asyncio.run(_drop())


async def _drop() -> None:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        for name in (CLAIMS_DB, PGBENCH_DB):
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
