"""An editor's loop: from a one-line change in data/ to a retrained model
serving it. A copy of data/, domain/ and the configs is trained once (the
editor's earlier model, which fills Rasa's training cache), a Rasa server
(HTTP API) serves it, then for each way of retraining one new training
example is added to data/nlu/en/core.yml and the clock runs from that
change until the server, given the new model (PUT /model), answers
/model/parse for the new sentence:

- ``retrain``: ``rasa train`` with our config.yml (the cache keeps what the
  change did not touch: the dialogue policies);
- ``finetune``: ``rasa train --finetune <previous model> --epoch-fraction
  0.2`` (Rasa's incremental training);
- ``quick``: ``rasa train`` with bench/configs/quick.yml (fewer epochs;
  its accuracy is in bench/nlu.py's figures).

Each is repeated ``--repeats`` times (a new line each time); the median is
reported. ``--ways retrain`` is the default: since config.yml has no
TensorFlow component (bot/components/linear_intent_classifier.py) there is
nothing to fine-tune, and quick.yml is the old DIET config with fewer epochs.
``--config`` trains another config file as ``retrain`` (the one before,
for a figure before and after). Besides the wall-clock seconds, each training
reports the CPU seconds of the ``rasa train`` process (user + system), which
another user's load on the machine changes much less; and the server's start
with the first model (``rasa run`` until it answers) is timed too. Run with the bench environment: ``.venv/bench/bin/python -m
bench.retrain``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, table, write_results
from stack.live import free_port
from support_rules.rasa_auth import JWT_METHOD, rasa_api_headers

RASA = ROOT / ".venv" / "bot" / "bin" / "rasa"
JWT_SECRET = "bench-retrain-jwt-secret"
CHANGED = Path("data") / "nlu" / "en" / "core.yml"
TARGET_SECONDS = 60
LOAD_TARGET_SECONDS = 10


def project(tmp: Path, config: Path | None = None) -> Path:
    """The editor's project: a copy of what training reads."""
    work = tmp / "project"
    work.mkdir()
    for name in ("data", "domain"):
        shutil.copytree(ROOT / name, work / name)
    shutil.copy(config or ROOT / "config.yml", work / "config.yml")
    shutil.copy(ROOT / "bench" / "configs" / "quick.yml", work / "quick.yml")
    (work / "build").symlink_to(ROOT / "build")  # the spaCy pipelines (config: build/spacy)
    (work / "bot").symlink_to(ROOT / "bot")  # the tokenizer component
    (work / "actions").symlink_to(ROOT / "actions")
    return work


def add_example(work: Path, text: str) -> None:
    """One new line under the first intent of the English core file."""
    path = work / CHANGED
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("examples: |"))
    indent = " " * (len(lines[at + 1]) - len(lines[at + 1].lstrip()))
    lines.insert(at + 1, f"{indent}- {text}\n")
    path.write_text("".join(lines))


def env(tmp: Path) -> dict:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(tmp / "cache"),
        "PYTHONPATH": str(ROOT),
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU_S: list[float] = []  # CPU seconds of each training, in order


def train(work: Path, tmp: Path, config: str, name: str, extra: Sequence[str] = ()) -> tuple[Path, float]:
    began = time.perf_counter()
    cpu_before = _children_cpu_s()
    with (tmp / "train.log").open("a") as log:
        done = subprocess.run(
            [
                str(RASA),
                "train",
                "--config",
                config,
                "--data",
                "data",
                "--domain",
                "domain",
                "--out",
                "models",
                "--fixed-model-name",
                name,
                *extra,
            ],
            cwd=work,
            env=env(tmp),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if done.returncode:
        raise RuntimeError(f"rasa train failed: {(tmp / 'train.log').read_text()[-1000:]}")
    CPU_S.append(round(_children_cpu_s() - cpu_before, 1))
    return work / "models" / f"{name}.tar.gz", time.perf_counter() - began


def call(
    url: str, method: str = "GET", body: dict | None = None, timeout: float = 300, *, auth: bool = False
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json", **(rasa_api_headers(JWT_SECRET) if auth else {})}
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body is not None else None, method=method, headers=headers
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


class Server:
    def __init__(self, work: Path, tmp: Path, model: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "--jwt-secret", JWT_SECRET, "--jwt-method", JWT_METHOD]
            + ["--interface", "127.0.0.1", "--model", str(model), "--port", str(self.port)],
            cwd=work,
            env=env(tmp),
            stdout=(tmp / "server.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                call(f"{self.url}/", timeout=2)
                self.start_s = time.perf_counter() - began
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.5)
        raise RuntimeError(f"rasa run did not come up: {(tmp / 'server.log').read_text()[-1000:]}")

    def load(self, model: Path) -> float:
        began = time.perf_counter()
        status, _ = call(f"{self.url}/model", "PUT", {"model_file": str(model)}, auth=True)
        assert status == 204, status
        return time.perf_counter() - began

    def parse(self, text: str) -> dict:
        _, body = call(f"{self.url}/model/parse", "POST", {"text": text}, auth=True)
        return json.loads(body)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ways", default="retrain", help="retrain, finetune, quick (comma-separated)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--config", type=Path, default=None, help="the config to train (default: config.yml)")
    parser.add_argument("--rasa", type=Path, default=None, help="the bot environment's rasa")
    parser.add_argument("--name", default="retrain", help="the results file under build/bench/")
    args = parser.parse_args()
    global RASA
    RASA = args.rasa or RASA
    ways = args.ways.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    work = project(tmp, args.config)
    results: dict[str, list[dict]] = {w: [] for w in ways}
    server = None
    try:
        print("training the editor's earlier model (fills the cache) ...", flush=True)
        previous, cold = train(work, tmp, "config.yml", "base")
        cold_cpu = CPU_S[-1]
        print(f"  cold training, nothing cached: {cold:.0f} s ({cold_cpu:.0f} CPU s)", flush=True)
        if "quick" in ways:  # the quick config's earlier model too, so both start warm
            train(work, tmp, "quick.yml", "quick-base")
        server = Server(work, tmp, previous)
        start_s = server.start_s
        print(f"  server start with that model until it answers: {server.start_s:.1f} s", flush=True)
        counter = 0
        for repeat in range(args.repeats):
            for way in ways if repeat % 2 == 0 else ways[::-1]:
                counter += 1
                sentence = f"hello there number {counter} from the benchmark"
                began = time.perf_counter()
                add_example(work, sentence)
                if way == "retrain":
                    model, train_s = train(work, tmp, "config.yml", f"retrain-{counter}")
                    previous = model
                elif way == "finetune":
                    model, train_s = train(
                        work,
                        tmp,
                        "config.yml",
                        f"finetune-{counter}",
                        ["--finetune", str(previous), "--epoch-fraction", "0.2"],
                    )
                    previous = model
                else:
                    model, train_s = train(work, tmp, "quick.yml", f"quick-{counter}")
                load_s = server.load(model)
                parsed = server.parse(sentence)
                total = time.perf_counter() - began
                result = {
                    "total_s": round(total, 1),
                    "train_s": round(train_s, 1),
                    "train_cpu_s": CPU_S[-1],
                    "load_s": round(load_s, 1),
                    "intent": parsed["intent"]["name"],
                    "confidence": round(parsed["intent"]["confidence"], 3),
                }
                results[way].append(result)
                print(
                    f"  run {repeat + 1}/{args.repeats} {way:9} change to serving {total:5.1f} s "
                    f"(train {train_s:.1f} s, {CPU_S[-1]:.1f} CPU s; load {load_s:.1f} s) -> {result['intent']}",
                    flush=True,
                )
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    medians = {
        w: {k: round(statistics.median(r[k] for r in rs), 1) for k in ("total_s", "train_s", "train_cpu_s", "load_s")}
        for w, rs in results.items()
        if rs
    }
    print()
    print(
        table(
            [
                [
                    w,
                    m["total_s"],
                    m["train_s"],
                    m["train_cpu_s"],
                    m["load_s"],
                    "met" if m["total_s"] <= TARGET_SECONDS else "missed",
                    "met" if m["load_s"] <= LOAD_TARGET_SECONDS else "missed",
                ]
                for w, m in medians.items()
            ],
            ["way", "change to serving s", "training s", "training CPU s", "model load s", "<= 60 s", "load <= 10 s"],
        )
    )
    print(
        f"cold training {cold:.0f} s ({cold_cpu:.0f} CPU s): {'met' if cold <= TARGET_SECONDS else 'missed'} (<= 60 s); "
        f"server start {start_s:.1f} s"
    )
    write_results(
        args.name,
        {
            "config": str(args.config or "config.yml"),
            "cold_training_s": round(cold, 1),
            "cold_training_cpu_s": cold_cpu,
            "server_start_s": round(start_s, 1),
            "repeats": args.repeats,
            "medians": medians,
            "runs": results,
            "target_s": TARGET_SECONDS,
            "load_target_s": LOAD_TARGET_SECONDS,
        },
    )


if __name__ == "__main__":
    main()
