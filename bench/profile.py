"""Where a turn's time goes: py-spy samples the Rasa server and the action
server of a live stack (stack/live.py) while customers run the
conversations of bench/conversations.py through the REST channel, then
this prints the functions that were on the CPU the most (inclusive, and by
the file they live in), and keeps the raw stacks and a flame graph under
build/bench/profile/.

Run with the bench environment (py-spy is in it; it needs ptrace, so root
or CAP_SYS_PTRACE): ``.venv/bench/bin/python -m bench.profile``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bot_latency import RestTarget
from bench.common import RESULTS, table, write_results
from bench.load import run_cell
from stack.live import LiveStack

PY_SPY = Path(sys.executable).with_name("py-spy")
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:]*)(?::\d+)?\)$")


def record(pid: int, seconds: int, out: Path, fmt: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            "100",
            "--nonblocking",
            "-f",
            fmt,
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.10/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def analyse(raw: Path, top: int) -> dict:
    """Inclusive samples per function and per file (each counted once per stack)."""
    functions: collections.Counter[str] = collections.Counter()
    files: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        seen_f, seen_files = set(), set()
        for frame in stack.split(";"):
            m = FRAME.match(frame)
            func, file = (m.group("func"), _short(m.group("file"))) if m else (frame, "?")
            seen_f.add(f"{func} ({file})")
            seen_files.add(file)
        for key in seen_f:
            functions[key] += count
        for key in seen_files:
            files[key] += count

    def share(count: float) -> float:
        return round(100 * count / total, 1) if total else 0.0

    return {
        "samples": total,
        "functions": [(k, share(c)) for k, c in functions.most_common(top)],
        "files": [(k, share(c)) for k, c in files.most_common(top)],
    }


async def load(stack: LiveStack, concurrency: int, conversations: int, tag: str) -> dict:
    return await run_cell(RestTarget("ours_rest", [stack.rasa_url]), concurrency, conversations, tag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--processes", default="rasa,actions")
    args = parser.parse_args()
    out = RESULTS / "profile"
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    stack = LiveStack(tmp)
    try:
        stack.start()
        asyncio.run(load(stack, 2, 2, "warm"))
        spies = {}
        for name in args.processes.split(","):
            pid = stack.processes[name].pid
            spies[name] = (
                record(pid, args.seconds, out / f"{name}.raw.txt", "raw"),
                record(pid, args.seconds, out / f"{name}.svg", "flamegraph"),
            )
        # enough conversations to keep the server busy for the whole recording
        result = asyncio.run(load(stack, args.customers, args.customers * 6, "profiled"))
        for name, pair in spies.items():
            for spy in pair:
                _, err = spy.communicate(timeout=args.seconds + 60)
                if spy.returncode:
                    print(f"py-spy on {name}: {err[-500:]}")
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"load while sampled: {args.customers} customers, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"{result.get('per_s')} msg/s"
    )
    analysed = {}
    for name in spies:
        raw = out / f"{name}.raw.txt"
        if not raw.exists():
            continue
        analysed[name] = analyse(raw, args.top)
        print(f"\n{name}: {analysed[name]['samples']} samples on the CPU; share of them (inclusive)")
        print(table(analysed[name]["files"][:25], ["file", "%"]))
        print()
        print(table(analysed[name]["functions"], ["function", "%"]))
    write_results(
        "profile", {"customers": args.customers, "seconds": args.seconds, "load": result, "profiles": analysed}
    )
    print(f"flame graphs: {out.relative_to(RESULTS.parents[1])}/*.svg")


if __name__ == "__main__":
    main()
