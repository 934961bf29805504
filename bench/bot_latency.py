"""Bot turn latency: simulated customers (1, 10 and 50 at once) run the
Turkish and English conversations of bench/conversations.py to a handoff,
against four targets measured side by side in the same run:

- ``ours_rest``: the whole assistant (stack/live.py: Rasa with our
  channels, SQL tracker store and SQL event broker, the action server, the
  handoff service) through the REST channel;
- ``ours_socketio``: the same processes through the socket.io channel, the
  way the web chat talks (a turn ends with the server's acknowledgement,
  which comes after the bot's last message);
- ``inprocess``: our model in a Rasa ``Agent`` inside this process: no HTTP,
  no action server (our actions run in-process through rasa_sdk's executor),
  in-memory tracker store, no event broker;
- ``vanilla``: Rasa's starter project (``rasa init``, its default config),
  served by ``rasa run`` through its REST channel.

A turn is one customer message until every bot reply to it has arrived.
Each (concurrency, target) cell is run ``--repeats`` times, the targets in
a rotating order inside each repetition, and the medians of the runs'
p50/p95/p99 and messages per second are reported. The resident memory of
each server process is sampled during the runs.

Run with the bench environment: ``.venv/bench/bin/python -m bench.bot_latency``
(the in-process agent runs in the bot environment, bench/inprocess_agent.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, cpu_seconds, median_of_runs, rss_mib, table, write_results
from bench.load import run_cell
from stack.live import BOT_BIN, SERVICE_TOKEN, LiveStack, free_port, wait_until_up
from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER

VANILLA_DIR = RESULTS / "vanilla"
TIMEOUT = 180.0


# the vanilla assistant ----------------------------------------------------------


def vanilla_model() -> Path:
    """Rasa's starter project with its default config, trained once into
    build/bench/vanilla (``rasa init`` is bundled with Rasa, offline)."""
    models = sorted((VANILLA_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    VANILLA_DIR.mkdir(parents=True, exist_ok=True)
    print("training Rasa's starter project (rasa init) into build/bench/vanilla ...", flush=True)
    done = subprocess.run(
        [str(BOT_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(VANILLA_DIR)],
        cwd=VANILLA_DIR.parent,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
    )
    models = sorted((VANILLA_DIR / "models").glob("*.tar.gz"))
    if done.returncode != 0 or not models:
        raise RuntimeError(f"rasa init failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
    return models[-1]


class VanillaServer:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "vanilla.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        model = vanilla_model()
        self.process = subprocess.Popen(
            [
                str(BOT_BIN / "rasa"),
                "run",
                "--enable-api",
                "--model",
                str(model),
                "--port",
                str(self.port),
                "--credentials",
                str(VANILLA_DIR / "credentials.yml"),
            ],
            cwd=VANILLA_DIR,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until_up(f"{self.url}/", self.process, self.log, seconds=240)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


# targets: each opens a conversation whose ``say`` is one timed turn ----------------


class RestTarget:
    def __init__(self, name: str, urls: list[str], *, issues_conversations: bool = True) -> None:
        """``issues_conversations``: our REST channel, which picks the
        conversation's id and issues its secret (Rasa's own takes the sender
        as given). Several ``urls`` (Rasa servers sharing their stores): each
        conversation stays on one, the next conversation goes to the next, as
        a proxy spreads customers."""
        self.name = name
        self.issues_conversations = issues_conversations
        self.urls = itertools.cycle([f"{url}/webhooks/rest/webhook" for url in urls])
        self.session: Any = None

    async def open(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT), connector=aiohttp.TCPConnector(limit=0)
        )

    async def close(self) -> None:
        await self.session.close()

    @contextlib.asynccontextmanager
    async def conversation(self, sender: str, language: str) -> AsyncIterator[Callable[[str], Any]]:
        # our channel picks the conversation's id and issues its secret with
        # the first answer (bot/channels/rest_input.py); Rasa's own channel
        # takes the sender as given and issues nothing
        issued: dict[str, str] = {}
        url = next(self.urls)

        async def say(text: str) -> int:
            body = {"sender": issued.get("id", sender), "message": text}
            headers = {CONVERSATION_SECRET_HEADER: issued["secret"]} if issued else {}
            if not issued and self.issues_conversations:
                del body["sender"]
            async with self.session.post(url, json=body, headers=headers) as response:
                response.raise_for_status()
                if CONVERSATION_SECRET_HEADER in response.headers and not issued:
                    issued.update(
                        id=response.headers[CONVERSATION_ID_HEADER], secret=response.headers[CONVERSATION_SECRET_HEADER]
                    )
                return len(await response.json())

        yield say


class SocketTarget:
    """The web chat's way: websocket, session_request / session_confirm, and
    ``user_uttered`` with an acknowledgement once the server handled it."""

    def __init__(self, name: str, urls: list[str], origin: str) -> None:
        """Several ``urls``: each customer's socket on the next server, as
        the proxy's address hash spreads customers."""
        self.name, self.urls, self.origin = name, itertools.cycle(urls), origin

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    @contextlib.asynccontextmanager
    async def conversation(self, sender: str, language: str) -> AsyncIterator[Callable[[str], Any]]:
        import socketio

        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.get_running_loop().create_future()
        received: list[dict] = []
        client.on("session_confirm", lambda data: None if confirmed.done() else confirmed.set_result(data))
        client.on("bot_uttered", lambda data: received.append(data))
        await client.connect(
            next(self.urls),
            transports=["websocket"],
            socketio_path="/socket.io",
            headers={"Origin": self.origin},
            wait_timeout=30,
        )
        try:
            await client.emit("session_request", {"session_id": None})  # the channel picks the id
            session = await asyncio.wait_for(confirmed, 30)
            mine = {"session_id": session["session_id"], "session_secret": session["session_secret"]}

            async def say(text: str) -> int:
                before = len(received)
                await client.call(
                    "user_uttered",
                    {"message": text, **mine, "customData": {"language": language}},
                    timeout=TIMEOUT,
                )
                return len(received) - before

            yield say
        finally:
            await client.disconnect()


class InProcessTarget:
    """bench/inprocess_agent.py in the bot environment: the load runs inside
    the process that holds the agent, so no HTTP is timed."""

    name = "inprocess"

    def __init__(self, stack: LiveStack) -> None:
        env = {
            **stack.env,
            "HANDOFF_URL": stack.handoff_url,
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "OUTBOX_PATH": str(stack.tmp / "inprocess-outbox.db"),
        }
        self.log = (stack.tmp / "inprocess.log").open("a")
        self.process = subprocess.Popen(
            [str(BOT_BIN / "python"), "-m", "bench.inprocess_agent"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.pid = self.process.pid
        self._expect("READY")

    def _expect(self, prefix: str) -> str:
        while True:
            assert self.process.stdout is not None  # started with stdout=PIPE
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the in-process agent exited (log: {self.log.name})")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    def _cell(self, concurrency: int, conversations: int, tag: str) -> dict:
        assert self.process.stdin is not None  # started with stdin=PIPE
        self.process.stdin.write(
            json.dumps({"concurrency": concurrency, "conversations": conversations, "tag": tag}) + "\n"
        )
        self.process.stdin.flush()
        return json.loads(self._expect("RESULT "))

    async def cell(self, concurrency: int, conversations: int, tag: str) -> dict:
        return await asyncio.to_thread(self._cell, concurrency, conversations, tag)

    def stop(self) -> None:
        assert self.process.stdin is not None  # started with stdin=PIPE
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


# the load ---------------------------------------------------------------------------


class MemorySampler(threading.Thread):
    """The largest resident memory of each named process while running."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak: dict[str, float] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for name, pid in self.pids.items():
                value = rss_mib(pid)
                if value is not None:
                    self.peak[name] = max(self.peak.get(name, 0.0), value)
            self.stopped.wait(0.5)

    def stop(self) -> dict[str, float]:
        self.stopped.set()
        self.join()
        return dict(self.peak)


def parse_plan(text: str) -> list[tuple[int, int]]:
    """``"1:4,10:10,50:50"``: (customers at once, conversations in all)."""
    return [(int(c), int(n)) for c, n in (part.split(":") for part in text.split(","))]


async def cell(target: Any, concurrency: int, conversations: int, tag: str) -> dict:
    if isinstance(target, InProcessTarget):
        return await target.cell(concurrency, conversations, tag)
    return await run_cell(target, concurrency, conversations, tag)


async def measure(
    targets: list[Any], plan: list[tuple[int, int]], repeats: int, pids: dict[str, dict[str, int]]
) -> dict:
    runs: dict[str, dict[int, list[dict]]] = {t.name: {c: [] for c, _ in plan} for t in targets}
    memory: dict[str, float] = {}
    for t in targets:  # warm-up: a fresh Rasa's first turns trace TensorFlow graphs
        print(f"warm-up {t.name}", flush=True)
        await cell(t, 2, 2, f"warm-{t.name}")
    for repeat in range(repeats):
        for concurrency, conversations in plan:
            shift = (repeat + concurrency) % len(targets)
            for t in targets[shift:] + targets[:shift]:
                sampler = MemorySampler(pids.get(t.name, {}))
                watched = {**pids.get(t.name, {}), "load generator": os.getpid()}
                cpu_before = {proc: cpu_seconds(pid) or 0.0 for proc, pid in watched.items()}
                sampler.start()
                result = await cell(t, concurrency, conversations, f"{t.name}-{repeat}-{concurrency}")
                peak = sampler.stop()
                result["peak_rss_mib"] = peak
                result["cpu_ms_per_turn"] = cpu_per_turn(watched, cpu_before, result["n"])
                for proc, value in peak.items():
                    key = f"{t.name}:{proc}"
                    memory[key] = max(memory.get(key, 0.0), value)
                runs[t.name][concurrency].append(result)
                print(
                    f"  run {repeat + 1}/{repeats} {t.name:14} x{concurrency:<3} p50 {result['p50_ms']:7.1f} ms  "
                    f"p95 {result['p95_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                    f"{result.get('per_s', 0):6.2f} msg/s  errors {result['errors']}  CPU ms/turn "
                    + " ".join(f"{proc} {ms:.1f}" for proc, ms in result["cpu_ms_per_turn"].items()),
                    flush=True,
                )
    return {"runs": runs, "peak_rss_mib": memory}


def cpu_per_turn(pids: dict[str, int], before: dict[str, float], turns: float) -> dict[str, float]:
    """CPU milliseconds each process used per turn of a cell, from
    /proc/<pid>/stat before and after: what a turn costs, whatever else the
    machine is doing meanwhile."""
    after = {proc: cpu_seconds(pid) for proc, pid in pids.items()}
    # a process gone by the end (it exited in the cell) counts 0, not minus what it had
    used = {proc: 0.0 if now is None else now - before.get(proc, 0.0) for proc, now in after.items()}
    return {proc: round(1000 * seconds / max(turns, 1), 1) for proc, seconds in used.items()}


def report(runs: dict[str, dict[int, list[dict]]], memory: dict[str, float]) -> dict:
    medians = {name: {str(c): median_of_runs(cells) for c, cells in by_c.items()} for name, by_c in runs.items()}
    rows = []
    for name, by_c in medians.items():
        for c, m in by_c.items():
            rows.append(
                [name, c, m["p50_ms"], m["p95_ms"], m["p99_ms"], m.get("per_s", ""), int(m["n"]), int(m["errors"])]
            )
    print()
    print("median of runs, per turn")
    print(table(rows, ["target", "customers", "p50 ms", "p95 ms", "p99 ms", "msg/s", "turns", "errors"]))
    ratios: dict[str, dict[str, float]] = {}
    if "vanilla" in medians:
        for c in medians["vanilla"]:
            base = medians["vanilla"][c]["p95_ms"]
            ratios[c] = {name: round(m[c]["p95_ms"] / base, 2) for name, m in medians.items() if c in m and base}
        print()
        print("p95 as a multiple of the vanilla assistant's (same run)")
        print(table([[c, *(r.get(n, "") for n in medians)] for c, r in ratios.items()], ["customers", *medians]))
        throughput: dict[str, dict[str, float]] = {}
        for c in medians["vanilla"]:
            base = medians["vanilla"][c].get("per_s") or 0
            throughput[c] = {
                name: round(m[c].get("per_s", 0) / base, 2) for name, m in medians.items() if c in m and base
            }
        print()
        print("messages per second as a multiple of the vanilla assistant's (same run)")
        print(table([[c, *(r.get(n, "") for n in medians)] for c, r in throughput.items()], ["customers", *medians]))
        verdicts = targets_met(ratios, throughput)
        for line in verdicts["lines"]:
            print(line)
    cpu = {
        name: {str(c): median_of_runs([r["cpu_ms_per_turn"] for r in cells]) for c, cells in by_c.items() if cells}
        for name, by_c in runs.items()
    }
    print()
    print("CPU ms per turn, median of runs (each process of the target, and this load generator)")
    print(
        table(
            [
                [name, c, ", ".join(f"{proc} {ms:.1f}" for proc, ms in m.items())]
                for name, by_c in cpu.items()
                for c, m in by_c.items()
            ],
            ["target", "customers", "CPU ms per turn"],
        )
    )
    print()
    print("peak resident memory (MiB)")
    print(table([[k, v] for k, v in sorted(memory.items())], ["target:process", "MiB"]))
    if "vanilla" not in medians:
        return {"medians": medians, "p95_ratio_to_vanilla": ratios, "cpu_ms_per_turn": cpu}
    return {
        "medians": medians,
        "cpu_ms_per_turn": cpu,
        "p95_ratio_to_vanilla": ratios,
        "per_s_ratio_to_vanilla": throughput,
        "targets": verdicts["met"],
    }


THROUGHPUT_TARGET = 1.5  # messages per second, times the vanilla assistant's, at 10 and 50 customers
P95_TARGET = 1.0  # p95 at 10 customers, times the vanilla assistant's


def targets_met(p95: dict[str, dict[str, float]], per_s: dict[str, dict[str, float]]) -> dict:
    """Issue 17's bot-turn targets for each of our channels that ran."""
    lines: list[str] = []
    met: dict[str, bool] = {}
    for name in ("ours_rest", "ours_socketio"):
        checks = []
        for c in ("10", "50"):
            if name in per_s.get(c, {}):
                ok = per_s[c][name] >= THROUGHPUT_TARGET
                checks.append(ok)
                lines.append(
                    f"target msg/s at {c} customers >= {THROUGHPUT_TARGET} x vanilla, {name}: "
                    f"{per_s[c][name]} -> {'met' if ok else 'missed'}"
                )
        if name in p95.get("10", {}):
            ok = p95["10"][name] <= P95_TARGET
            checks.append(ok)
            lines.append(
                f"target p95 at 10 customers <= {P95_TARGET} x vanilla, {name}: {p95['10'][name]} -> "
                f"{'met' if ok else 'missed'}"
            )
        if checks:
            met[name] = all(checks) and len(checks) == 3
    return {"lines": lines, "met": met}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", default="1:4,10:10,50:50", help="customers:conversations, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--targets", default="vanilla,inprocess,ours_rest,ours_socketio")
    parser.add_argument(
        "--broker",
        default="sql",
        choices=["sql", "rabbitmq"],
        help="the whole stack's event broker (sql: make run's default; rabbitmq: deployments')",
    )
    parser.add_argument(
        "--rasa-servers",
        type=int,
        default=1,
        help="Rasa servers of our stack (1: make run's; more: sharing the tracker store, "
        "with the lock store and socket.io fan-out in Redis, as replicas do)",
    )
    parser.add_argument("--name", default="bot_latency", help="results file build/bench/<name>.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    wanted = args.targets.split(",")
    plan = parse_plan(args.plan)
    tmp = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    stack = LiveStack(tmp, broker=args.broker, rasa_servers=args.rasa_servers)
    vanilla = VanillaServer(tmp)
    inprocess: InProcessTarget | None = None
    try:
        if "vanilla" in wanted:
            vanilla.start()
        stack.start()
        targets: list[Any] = []
        pids: dict[str, dict[str, int]] = {}
        live = {name: p.pid for name, p in stack.processes.items()}
        if "vanilla" in wanted:
            targets.append(RestTarget("vanilla", [vanilla.url], issues_conversations=False))
            assert vanilla.process is not None  # started above
            pids["vanilla"] = {"rasa": vanilla.process.pid}
        if "inprocess" in wanted:
            inprocess = InProcessTarget(stack)
            targets.append(inprocess)
            pids["inprocess"] = {"agent process": inprocess.pid}
        if "ours_rest" in wanted:
            targets.append(RestTarget("ours_rest", stack.rasa_urls))
            pids["ours_rest"] = live
        if "ours_socketio" in wanted:
            targets.append(SocketTarget("ours_socketio", stack.rasa_urls, stack.handoff_url))
            pids["ours_socketio"] = live
        measured = asyncio.run(measure(targets, plan, args.repeats, pids))
        reported = report(measured["runs"], measured["peak_rss_mib"])
        write_results(
            args.name,
            {
                "broker": args.broker,
                "rasa_servers": args.rasa_servers,
                "plan": [{"customers": c, "conversations": n} for c, n in plan],
                "repeats": args.repeats,
                **reported,
                "peak_rss_mib": measured["peak_rss_mib"],
                "runs": {n: {str(c): r for c, r in by_c.items()} for n, by_c in measured["runs"].items()},
            },
        )
    finally:
        if inprocess:
            inprocess.stop()
        stack.stop()
        vanilla.stop()
        if args.broker == "rabbitmq":
            from bench.handoff_latency import _delete_queue

            _delete_queue(stack.rabbitmq_queue)
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
