"""Idle: what the whole `make run` stack costs when no customer writes.

Starts `make run` (its embedded defaults, on ports of its own), waits until
Rasa and the handoff service answer and then ``--settle`` seconds more (the
start-up work: the first retention pass, the model load), and sums the CPU
time (user + system, ``/proc/<pid>/stat``) of every process under it over
``--seconds`` (60). Prints each process's share of one core, the total and
issue 17's target (below 1 % of a core), then stops the stack.

Run with the bench environment: ``.venv/bench/bin/python -m bench.idle`` (``make bench-idle``).
Stop any `make run` of your own first: the stack uses the same database
files.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from pathlib import Path

from bench.common import ROOT, cpu_seconds, table, write_results
from stack.live import free_port, wait_until_up

TARGET_PERCENT = 1.0


def children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        found.setdefault(parent, []).append(int(entry.name))
    return found


def tree(root: int) -> list[int]:
    kids = children()
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo.extend(kids.get(pid, []))
    return seen


def command(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
    return text[:80]


def measure(root: int, seconds: float) -> tuple[list[tuple[int, str, float]], float]:
    pids = tree(root)
    before = {pid: cpu_seconds(pid) for pid in pids}
    time.sleep(seconds)
    rows: list[tuple[int, str, float]] = []
    total = 0.0
    for pid in pids:
        start, end = before[pid], cpu_seconds(pid)
        if start is None or end is None:
            continue
        share = 100 * (end - start) / seconds
        total += share
        if share > 0 or pid == root:
            rows.append((pid, command(pid), round(share, 2)))
    rows.sort(key=lambda row: -row[2])
    return rows, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    parser.add_argument("--settle", type=float, default=20.0, help="wait after the stack answers")
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait for the stack to start")
    args = parser.parse_args()
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "HANDOFF_PORT", "HANDOFF_SMTP_PORT")}
    log = ROOT / "build" / "bench" / "idle-run.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}}
    for name in ("HANDOFF_URL", "RASA_URL", "ACTION_ENDPOINT_URL", "WEBCHAT_ORIGINS"):
        env.pop(name, None)  # derived from the ports by mk/common.mk
    with log.open("w") as out:
        stack = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        began = time.monotonic()
        for url in (f"http://127.0.0.1:{ports['RASA_PORT']}/", f"http://127.0.0.1:{ports['HANDOFF_PORT']}/healthz"):
            wait_until_up(url, stack, log, seconds=args.timeout)
        print(f"stack up in {time.monotonic() - began:.0f} s; settling {args.settle:.0f} s", flush=True)
        time.sleep(args.settle)
        print(f"measuring {args.seconds:.0f} s with nobody writing ...", flush=True)
        rows, total = measure(stack.pid, args.seconds)
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        try:
            stack.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
    print(table(rows, ["pid", "process", "% of a core"]))
    met = total < TARGET_PERCENT
    print(f"total {total:.2f} % of a core over {args.seconds:.0f} s")
    print(
        f"target: the whole make run stack below {TARGET_PERCENT:.0f} % of a core idle -> {'met' if met else 'missed'}"
    )
    write_results(
        "idle",
        {
            "seconds": args.seconds,
            "processes": [{"pid": r[0], "process": r[1], "percent": r[2]} for r in rows],
            "total_percent": round(total, 3),
            "target_met": met,
        },
    )


if __name__ == "__main__":
    main()
