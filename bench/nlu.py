"""NLU quality and cost, per configuration, trained on the same data in the
same run: our config.yml, Rasa's default pipeline
(bench/configs/rasa_default.yml) and the quick config for editors
(bench/configs/quick.yml). For each: the NLU training time (``rasa train
nlu``, wall clock, a fresh cache each time so nothing is reused), the
model's size, and intent accuracy and weighted/macro F1 per language on the
held-out sets tests/nlu/tr.yml and tests/nlu/en.yml (``rasa test nlu``).

Run with the bench environment: ``.venv/bench/bin/python -m bench.nlu``.
Rasa itself runs from the bot environment as subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, table, write_results

RASA = ROOT / ".venv" / "bot" / "bin" / "rasa"
CONFIGS = {
    "ours": ROOT / "config.yml",
    "rasa_default": ROOT / "bench" / "configs" / "rasa_default.yml",
    "quick": ROOT / "bench" / "configs" / "quick.yml",
}
LANGUAGES = ("tr", "en")


def rasa(args: list[str], tmp: Path, log: Path) -> float:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_CACHE_DIRECTORY": str(tmp / "cache")}
    began = time.perf_counter()
    with log.open("a") as out:
        done = subprocess.run([str(RASA), *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - began
    if done.returncode:
        raise RuntimeError(f"rasa {' '.join(args[:2])} failed, see {log}: {log.read_text()[-800:]}")
    return elapsed


def train(name: str, config: Path, tmp: Path) -> tuple[Path, float]:
    shutil.rmtree(tmp / "cache", ignore_errors=True)
    copy = tmp / f"config-{name}.yml"  # Rasa writes the pipeline it filled in back into the file
    shutil.copy(config, copy)
    seconds = rasa(
        [
            "train",
            "nlu",
            "--config",
            str(copy),
            "--nlu",
            "data",
            "--domain",
            "domain",
            "--out",
            str(tmp / "models"),
            "--fixed-model-name",
            name,
        ],
        tmp,
        tmp / f"train-{name}.log",
    )
    return tmp / "models" / f"{name}.tar.gz", seconds


def evaluate(model: Path, language: str, tmp: Path) -> dict:
    out = tmp / f"results-{model.stem}-{language}"
    rasa(
        ["test", "nlu", "--nlu", f"tests/nlu/{language}.yml", "--model", str(model), "--out", str(out)],
        tmp,
        tmp / f"test-{model.stem}.log",
    )
    report = json.loads((out / "intent_report.json").read_text())
    return {
        "accuracy": round(report["accuracy"], 3),
        "f1_weighted": round(report["weighted avg"]["f1-score"], 3),
        "f1_macro": round(report["macro avg"]["f1-score"], 3),
        "examples": int(report["weighted avg"]["support"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--repeats", type=int, default=1, help="trainings of each config (the time is their median)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    names = args.configs.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-nlu-"))
    results: dict[str, dict] = {}
    try:
        times: dict[str, list[float]] = {n: [] for n in names}
        models: dict[str, Path] = {}
        for repeat in range(args.repeats):
            for name in names if repeat % 2 == 0 else names[::-1]:
                model, seconds = train(name, CONFIGS[name], tmp)
                times[name].append(seconds)
                models[name] = model
                print(f"trained {name} in {seconds:.0f} s", flush=True)
        for name in names:
            scores = {lang: evaluate(models[name], lang, tmp) for lang in LANGUAGES}
            results[name] = {
                "config": str(CONFIGS[name].relative_to(ROOT)),
                "train_nlu_s": round(statistics.median(times[name]), 1),
                "train_nlu_runs_s": [round(t, 1) for t in times[name]],
                "nlu_model_mib": round(models[name].stat().st_size / 2**20, 1),
                **scores,
            }
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    full = ROOT / "models" / "triage.tar.gz"
    rows = []
    for name, r in results.items():
        for lang in LANGUAGES:
            s = r[lang]
            rows.append(
                [
                    name,
                    lang,
                    s["accuracy"],
                    s["f1_weighted"],
                    s["f1_macro"],
                    s["examples"],
                    r["train_nlu_s"],
                    r["nlu_model_mib"],
                ]
            )
    print()
    print(
        table(rows, ["config", "lang", "accuracy", "F1 weighted", "F1 macro", "examples", "train NLU s", "model MiB"])
    )
    if full.exists():
        print(f"full model (NLU and dialogue) models/triage.tar.gz: {full.stat().st_size / 2**20:.1f} MiB")
    write_results(
        "nlu", {"configs": results, "full_model_mib": round(full.stat().st_size / 2**20, 1) if full.exists() else None}
    )


if __name__ == "__main__":
    main()
