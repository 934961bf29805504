"""Our NLU pipeline beside Rasa's default pipeline on public intent sets that
nobody here wrote (``../shared/nlu_external``, its README has the sets and
their conventions; ``--data`` or ``NLU_EXTERNAL_DIR`` points elsewhere).
The sets are read where they are and written as temporary Rasa NLU YAML in a
temporary folder, never into data/ or tests/.

- ``multi3nlu_tr_hotels`` (Turkish) and ``nlupp_en_hotels`` (English): a
  row's label is its sorted intents joined with ``+``; labels with at least
  10 rows over the 20 folds are kept (rows with another label are left out
  of training and test); folds 0-14 train, 15-19 test. Rows without an
  intent are out of scope: left out of training, counted as out of scope in
  the test.
- ``hint3_sofmattress``, ``hint3_powerplay11``: ``*_train.csv`` trains,
  ``*_test.csv`` tests, ``NO_NODES_DETECTED`` marks the out-of-scope queries.

Both pipelines are trained in the same run on each set, once per seed
(``--seeds``, default 3; the seed is substituted into every DIETClassifier
and ResponseSelector as ``random_seed``): ``ours`` is config.yml's NLU
pipeline (its tokenizer reads the spaCy pipelines of ``--spacy``, default
build/spacy), ``rasa_default`` is bench/configs/rasa_default.yml, whose
empty pipeline Rasa fills with its default (the pipeline is taken from the
installed Rasa's default_config.yml, so the seed can be set). The
FallbackClassifier is taken out of both and applied afterwards to the
confidences Rasa's own parsing gives (``Agent.parse_message``), with
config.yml's threshold and ambiguity threshold, so one training gives the
figures at our threshold and at 0.

Figures per set and pipeline, mean and standard deviation over the seeds:
``accuracy`` (the intent of every in-scope test row, no fallback: the
README's accuracy), ``in_scope_accuracy`` (right intent and not fallen back,
at our threshold), ``oos_recall`` (out-of-scope rows fallen back, at our
threshold), the same two at 0, the training time (``train_nlu`` inside a
process where Rasa is already imported, no training cache) and the model's
size. Then the issue's targets: ours at least 10 points of accuracy above
Rasa's default on the Turkish and on the English hotels; on each HINT3 set
at least 5 points of in-scope accuracy at our threshold above it, with an
out-of-scope recall no lower.

``--cache DIR`` keeps each result of Rasa's default pipeline (predictions
and times; ``--cached`` names other pipelines to keep) in DIR as soon as it
comes, keyed by the contents of the config, the training data and the test
texts, the seed and the epochs: a later run with the same inputs reads it
instead of training the pipeline again (the runs read so are marked
``cached`` in the JSON), so ours can be measured beside it in about a
minute. Rasa's default pipeline with a seed gives the same figures run after
run, so a cached result is what training it again would give.

Run with the bench environment: ``.venv/bench/bin/python -m
bench.nlu_external`` (``--quick`` for a smoke run: a small subset of each
set, one seed, 3 epochs). Rasa runs from the bot environment in one
subprocess (bench/nlu_external_rasa.py). This module uses the standard
library only and runs on Python 3.10 as well: that subprocess imports it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, table, write_results

DATA_ENV = "NLU_EXTERNAL_DIR"
DEFAULT_DATA = ROOT.parent / "shared" / "nlu_external"
BOT_PYTHON = ROOT / ".venv" / "bot" / "bin" / "python"
SPACY_DIR = ROOT / "build" / "spacy"
PIPELINES = {
    "ours": ROOT / "config.yml",
    "rasa_default": ROOT / "bench" / "configs" / "rasa_default.yml",
}
HOTEL_SETS = {"multi3nlu_tr_hotels": "tr", "nlupp_en_hotels": "en"}
HINT3_SETS = ("sofmattress", "powerplay11")
SETS = (*HOTEL_SETS, *(f"hint3_{name}" for name in HINT3_SETS))
MIN_LABEL_ROWS = 10
TRAIN_FOLDS = range(0, 15)
TEST_FOLDS = range(15, 20)
HINT3_OOS = "NO_NODES_DETECTED"
SEEDED = ("DIETClassifier", "ResponseSelector")
# seeded as well, but trained without epochs (bot/components/linear_intent_classifier.py)
SEEDED_NO_EPOCHS = ("bot.components.linear_intent_classifier.LinearIntentClassifier",)
FALLBACK = "FallbackClassifier"
# Rasa's FallbackClassifier defaults, for a config that leaves them out
RASA_FALLBACK_DEFAULTS = (0.3, 0.1)
QUICK = {"per_label": 4, "test_rows": 40, "epochs": 3}
# set -> (figure compared, points ours must be above Rasa's default, OOS recall no lower)
TARGETS: dict[str, tuple[str, float, bool]] = {
    "multi3nlu_tr_hotels": ("accuracy", 10.0, False),
    "nlupp_en_hotels": ("accuracy", 10.0, False),
    "hint3_sofmattress": ("in_scope_accuracy", 5.0, True),
    "hint3_powerplay11": ("in_scope_accuracy", 5.0, True),
}


@dataclass(frozen=True)
class Example:
    text: str
    label: str | None  # None: out of scope


@dataclass(frozen=True)
class DataSet:
    name: str
    language: str
    train: tuple[Example, ...]
    test: tuple[Example, ...]
    dropped: int = 0  # rows left out: a label with too few rows, no text, unknown in training

    @property
    def labels(self) -> list[str]:
        return sorted({e.label for e in self.train if e.label is not None})


@dataclass(frozen=True)
class Prediction:
    intent: str | None
    confidence: float
    second: float | None = None  # the runner-up's confidence, for the ambiguity threshold


# --- loading --------------------------------------------------------------


def clean_text(text: str) -> str:
    """One line without Rasa's entity markup characters (``[x](y)``)."""
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def nlupp_label(row: Mapping[str, Any]) -> str | None:
    intents = row.get("intents") or []
    return "+".join(sorted(intents)) if intents else None


def nlupp_set(name: str, language: str, folds: Mapping[int, Sequence[Mapping[str, Any]]]) -> DataSet:
    """Multi3NLU++ / NLU++ rows by fold to a data set, by the README's conventions."""
    counts = Counter(nlupp_label(row) for rows in folds.values() for row in rows)
    kept = {label for label, n in counts.items() if label is not None and n >= MIN_LABEL_ROWS}
    train: list[Example] = []
    test: list[Example] = []
    dropped = 0
    for fold, rows in sorted(folds.items()):
        into = train if fold in TRAIN_FOLDS else test if fold in TEST_FOLDS else None
        for row in rows:
            text = clean_text(str(row.get("text", "")))
            label = nlupp_label(row)
            if into is None or not text or (label is not None and label not in kept):
                dropped += 1
            elif label is None and into is train:
                continue  # out of scope: nothing to learn
            else:
                into.append(Example(text, label))
    return DataSet(name, language, tuple(train), tuple(test), dropped)


def read_folds(folder: Path) -> dict[int, list[dict[str, Any]]]:
    return {fold: json.loads((folder / f"fold{fold}.json").read_text()) for fold in (*TRAIN_FOLDS, *TEST_FOLDS)}


def read_csv(text: str) -> list[tuple[str, str]]:
    return [(row["sentence"], row["label"]) for row in csv.DictReader(io.StringIO(text))]


def hint3_set(name: str, train_rows: Iterable[tuple[str, str]], test_rows: Iterable[tuple[str, str]]) -> DataSet:
    """HINT3 rows to a data set: ``NO_NODES_DETECTED`` is out of scope; a test
    label that training does not have is left out (counted in ``dropped``)."""
    train = [Example(clean_text(t), label) for t, label in train_rows if clean_text(t) and label != HINT3_OOS]
    known = {e.label for e in train}
    test: list[Example] = []
    dropped = 0
    for text, label in test_rows:
        cleaned = clean_text(text)
        if not cleaned or (label != HINT3_OOS and label not in known):
            dropped += 1
        else:
            test.append(Example(cleaned, None if label == HINT3_OOS else label))
    return DataSet(name, "en", tuple(train), tuple(test), dropped)


def load_set(name: str, data: Path) -> DataSet:
    if name in HOTEL_SETS:
        return nlupp_set(name, HOTEL_SETS[name], read_folds(data / name))
    if name.startswith("hint3_") and name[len("hint3_") :] in HINT3_SETS:
        bot = name[len("hint3_") :]
        folder = data / "hint3"
        return hint3_set(
            name,
            read_csv((folder / f"{bot}_train.csv").read_text()),
            read_csv((folder / f"{bot}_test.csv").read_text()),
        )
    raise ValueError(f"unknown set {name!r} (known: {', '.join(SETS)})")


def subset(data: DataSet, per_label: int, test_rows: int) -> DataSet:
    """The first ``per_label`` training rows of each label and ``test_rows``
    test rows spread evenly over the test part (a smoke run)."""
    seen: Counter[str | None] = Counter()
    train = []
    for example in data.train:
        if seen[example.label] < per_label:
            seen[example.label] += 1
            train.append(example)
    labels = set(seen)
    candidates = [e for e in data.test if e.label is None or e.label in labels]
    step = max(1, len(candidates) // max(1, test_rows))
    return DataSet(data.name, data.language, tuple(train), tuple(candidates[::step][:test_rows]), data.dropped)


# --- Rasa's inputs --------------------------------------------------------


def intent_names(labels: Iterable[str]) -> dict[str, str]:
    """Label -> an intent name Rasa accepts (letters, digits, ``_``; ``+``
    between intents becomes ``__``), unique."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for label in sorted(set(labels)):
        base = re.sub(r"[^0-9A-Za-z_]+", "_", label.replace("+", "__")).strip("_") or "intent"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[label] = name
    return names


def nlu_yaml(examples: Iterable[Example], names: Mapping[str, str]) -> str:
    """Rasa 3 NLU training data; out-of-scope examples are not written."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        if example.label is not None:
            by_intent.setdefault(names[example.label], []).append(example.text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in sorted(by_intent.items()):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in dict.fromkeys(texts)]
    return "\n".join(lines) + "\n"


def base_pipeline(config: Mapping[str, Any], rasa_default: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The config's pipeline; Rasa's default one when the config leaves it empty (as Rasa does)."""
    return [dict(c) for c in (config.get("pipeline") or rasa_default.get("pipeline") or [])]


def fallback_thresholds(config: Mapping[str, Any]) -> tuple[float, float]:
    """The FallbackClassifier's threshold and ambiguity threshold."""
    for component in config.get("pipeline") or []:
        if component.get("name") == FALLBACK:
            return (
                float(component.get("threshold", RASA_FALLBACK_DEFAULTS[0])),
                float(component.get("ambiguity_threshold", RASA_FALLBACK_DEFAULTS[1])),
            )
    raise ValueError("the config has no FallbackClassifier")


def bench_config(
    pipeline: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    language: str,
    spacy_dir: str | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """An NLU-only config: the pipeline with ``random_seed`` (and, for a smoke
    run, ``epochs``) in every DIETClassifier and ResponseSelector, the seed
    alone in our LinearIntentClassifier (its calibration folds), the spaCy
    folder of our tokenizer made absolute, no FallbackClassifier (applied
    afterwards by :func:`falls_back`)."""
    components = []
    for given in pipeline:
        component = dict(given)
        name = str(component.get("name", ""))
        if name == FALLBACK:
            continue
        if name in SEEDED:
            component["random_seed"] = seed
            if epochs is not None:
                component["epochs"] = epochs
        elif name in SEEDED_NO_EPOCHS:
            component["random_seed"] = seed
        if "pipelines_dir" in component and spacy_dir is not None:
            component["pipelines_dir"] = spacy_dir
        components.append(component)
    return {
        "recipe": "default.v1",
        "assistant_id": "bench-nlu-external",
        "language": language,
        "pipeline": components,
        "policies": [],
    }


# --- scoring --------------------------------------------------------------


def falls_back(prediction: Prediction, threshold: float, ambiguity: float) -> bool:
    """What Rasa's FallbackClassifier decides for this prediction."""
    if prediction.intent is None or prediction.confidence < threshold:
        return True
    return prediction.second is not None and prediction.confidence - prediction.second < ambiguity


def score(gold: Sequence[str | None], predicted: Sequence[Prediction], threshold: float, ambiguity: float) -> dict:
    """Accuracy over the in-scope rows without fallback; in-scope accuracy and
    out-of-scope recall at the given thresholds and at 0."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels, {len(predicted)} predictions")

    def ratio(hits: int, total: int) -> float | None:
        return round(hits / total, 4) if total else None

    pairs = list(zip(gold, predicted, strict=True))
    in_scope = [(g, p) for g, p in pairs if g is not None]
    oos = [p for g, p in pairs if g is None]
    right = [(g, p) for g, p in in_scope if p.intent == g]
    return {
        "accuracy": ratio(len(right), len(in_scope)),
        "in_scope_accuracy": ratio(sum(not falls_back(p, threshold, ambiguity) for _, p in right), len(in_scope)),
        "oos_recall": ratio(sum(falls_back(p, threshold, ambiguity) for p in oos), len(oos)),
        "in_scope_accuracy_at_0": ratio(sum(not falls_back(p, 0.0, 0.0) for _, p in right), len(in_scope)),
        "oos_recall_at_0": ratio(sum(falls_back(p, 0.0, 0.0) for p in oos), len(oos)),
        "in_scope": len(in_scope),
        "out_of_scope": len(oos),
    }


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean and standard deviation over seeds (0 for one seed), min and max."""
    present = [v for v in values if v is not None]
    if not present:
        return {"mean": None, "sd": None, "min": None, "max": None, "runs": []}
    return {
        "mean": round(statistics.fmean(present), 4),
        "sd": round(statistics.stdev(present), 4) if len(present) > 1 else 0.0,
        "min": min(present),
        "max": max(present),
        "runs": list(present),
    }


FIGURES = ("accuracy", "in_scope_accuracy", "oos_recall", "in_scope_accuracy_at_0", "oos_recall_at_0")


def summarise(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One set and pipeline over its seeds: each figure's spread, train time and size."""
    summary: dict[str, Any] = {figure: spread([r["scores"][figure] for r in runs]) for figure in FIGURES}
    summary["train_s"] = spread([r["train_s"] for r in runs])
    summary["model_mib"] = spread([r["model_mib"] for r in runs])
    summary["seeds"] = [r["seed"] for r in runs]
    return summary


def judge(name: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's target for one set: ours minus Rasa's default, in points of the means."""
    figure, points, oos_no_lower = TARGETS[name]
    difference = round(100 * (ours[figure]["mean"] - theirs[figure]["mean"]), 1)
    met = difference >= points
    result: dict[str, Any] = {"figure": figure, "target_points": points, "difference_points": difference}
    if oos_no_lower:
        ours_oos, theirs_oos = ours["oos_recall"]["mean"], theirs["oos_recall"]["mean"]
        oos_difference = round(100 * (ours_oos - theirs_oos), 1) if None not in (ours_oos, theirs_oos) else None
        result["oos_recall_difference_points"] = oos_difference
        met = met and oos_difference is not None and oos_difference >= 0
    result["met"] = met
    return result


def shown(figure: Mapping[str, Any]) -> str:
    if figure["mean"] is None:
        return "-"
    return f"{figure['mean']:.3f} ± {figure['sd']:.3f}"


# --- the run --------------------------------------------------------------


def cache_key(job: Mapping[str, Any]) -> str:
    """What a training's result depends on: the config's and the data's
    contents, the seed, the epochs and the language (not the paths)."""
    parts = [
        json.dumps({k: job[k] for k in ("set", "pipeline", "seed", "epochs", "language")}, sort_keys=True),
        *(Path(job[k]).read_text() for k in ("config", "nlu", "test")),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def cached_runs(jobs: Sequence[dict[str, Any]], cache: Path | None, cached: set[str]) -> dict[int, dict[str, Any]]:
    """The results of the jobs whose pipeline is in ``cached`` found in ``cache``, by job index."""
    found: dict[int, dict[str, Any]] = {}
    if cache is None:
        return found
    for i, job in enumerate(jobs):
        path = cache / f"{job['set']}-{job['pipeline']}-{job['seed']}-{cache_key(job)}.json"
        if job["pipeline"] in cached and path.exists():
            found[i] = {**json.loads(path.read_text()), "cached": True}
    return found


def store_run(jobs: Sequence[dict[str, Any]], run: Mapping[str, Any], cache: Path, cached: set[str]) -> None:
    """Keeps one result in ``cache`` when its pipeline is one of ``cached`` (as soon as it comes)."""
    if run["pipeline"] not in cached:
        return
    for job in jobs:
        if (run["set"], run["pipeline"], run["seed"]) == (job["set"], job["pipeline"], job["seed"]):
            cache.mkdir(parents=True, exist_ok=True)
            path = cache / f"{job['set']}-{job['pipeline']}-{job['seed']}-{cache_key(job)}.json"
            path.write_text(json.dumps(run, ensure_ascii=False))


def prepare(data: DataSet, tmp: Path) -> dict[str, Any]:
    """The set's training YAML and test texts in ``tmp``; the label of each intent name."""
    names = intent_names(data.labels)
    folder = tmp / data.name
    folder.mkdir(parents=True)
    (folder / "nlu.yml").write_text(nlu_yaml(data.train, names))
    (folder / "test.json").write_text(json.dumps([e.text for e in data.test], ensure_ascii=False))
    return {
        "nlu": str(folder / "nlu.yml"),
        "test": str(folder / "test.json"),
        "labels": {v: k for k, v in names.items()},
    }


def run_worker(
    bot_python: Path, jobs_path: Path, log: Path, on_result: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """Runs the jobs in the bot environment, echoing its progress; its results, one per job
    (each also given to ``on_result`` as it comes)."""
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    results: list[dict[str, Any]] = []
    with log.open("w") as err:
        process = subprocess.Popen(
            [str(bot_python), "-m", "bench.nlu_external_rasa", str(jobs_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            if message.get("kind") == "result":
                results.append(message)
                if on_result is not None:
                    on_result(message)
                print(
                    f"  {message['set']} {message['pipeline']} seed {message['seed']}: "
                    f"trained in {message['train_s']:.0f} s, parsed {len(message['predictions'])} in {message['parse_s']:.0f} s",
                    flush=True,
                )
            else:
                print(f"  {message.get('text', line.strip())}", flush=True)
        if process.wait():
            raise RuntimeError(
                f"the Rasa worker failed (exit {process.returncode}), see {log}:\n{log.read_text()[-2000:]}"
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(DATA_ENV, DEFAULT_DATA)))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--pipelines", default=",".join(PIPELINES))
    parser.add_argument("--seeds", type=int, default=3, help="seeds 1 to N")
    parser.add_argument(
        "--seed",
        default=None,
        help="only these seeds, comma-separated (e.g. 2 or 1,3; instead of --seeds): a single set and seed "
        "while iterating, with --sets and --cache",
    )
    parser.add_argument("--quick", action="store_true", help="a small subset of each set, 1 seed, 3 epochs")
    parser.add_argument("--bot-python", type=Path, default=BOT_PYTHON, help="the bot environment's python (Rasa)")
    parser.add_argument("--spacy", type=Path, default=SPACY_DIR, help="our tokenizer's spaCy pipelines")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data, configs, logs)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="a folder keeping the results (predictions, times) of the pipelines of --cached, one file per set, "
        "pipeline and seed, keyed by the config's and data's contents: a later run with the same inputs reads "
        "them instead of training again",
    )
    parser.add_argument("--cached", default="rasa_default", help="the pipelines --cache keeps (comma-separated)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Rasa worker processes training at once, the jobs dealt out in turn (training times then include "
        "waiting for each other; for a machine that others are loading too)",
    )
    args = parser.parse_args()
    seeds = [1] if args.quick else list(range(1, args.seeds + 1))
    if args.seed:
        seeds = [int(seed) for seed in args.seed.split(",")]
    pipelines = args.pipelines.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-nlu-external-"))
    sets: dict[str, DataSet] = {}
    try:
        prepared: dict[str, dict[str, Any]] = {}
        for name in args.sets.split(","):
            data = load_set(name, args.data.resolve())
            if args.quick:
                data = subset(data, QUICK["per_label"], QUICK["test_rows"])
            sets[name] = data
            prepared[name] = prepare(data, tmp)
            oos = sum(e.label is None for e in data.test)
            print(
                f"{name}: {len(data.labels)} intents, {len(data.train)} training rows, "
                f"{len(data.test)} test rows ({oos} out of scope), {data.dropped} left out",
                flush=True,
            )
        jobs = [
            {
                "set": name,
                "language": sets[name].language,
                "pipeline": pipeline,
                "config": str(PIPELINES[pipeline]),
                "seed": seed,
                "nlu": prepared[name]["nlu"],
                "test": prepared[name]["test"],
                "epochs": QUICK["epochs"] if args.quick else None,
                "spacy": str(args.spacy.resolve()),
                "work": str(tmp / "work"),
            }
            # pipelines alternate in order from one seed to the next, so load on the machine hits both alike
            for i, seed in enumerate(seeds)
            for name in sets
            for pipeline in (pipelines if i % 2 == 0 else pipelines[::-1])
        ]
        cached = set(args.cached.split(",")) if args.cache else set()
        found = cached_runs(jobs, args.cache, cached)
        if found:
            print(f"{len(found)} of {len(jobs)} results read from {args.cache}", flush=True)
        todo = [job for i, job in enumerate(jobs) if i not in found]
        workers = max(1, min(args.workers, len(todo)))
        shares = [todo[i::workers] for i in range(workers)]
        paths = []
        for i, share in enumerate(shares):
            paths.append(tmp / f"jobs-{i}.json")
            paths[-1].write_text(json.dumps({"jobs": share, "fallback_config": str(PIPELINES["ours"])}))
        logs = [tmp / ("rasa.log" if workers == 1 else f"rasa-{i}.log") for i in range(workers)]
        print(
            f"{len(todo)} trainings (sets x pipelines x seeds {seeds}) in {workers} worker(s); Rasa's log: "
            f"{', '.join(str(log) for log in logs)}",
            flush=True,
        )
        runs = list(found.values())
        if todo:
            cache = args.cache

            def keep(run: dict[str, Any]) -> None:
                if cache is not None:
                    store_run(todo, run, cache, cached)

            with ThreadPoolExecutor(workers) as pool:
                runs += [
                    run
                    for share in pool.map(run_worker, [args.bot_python] * workers, paths, logs, [keep] * workers)
                    for run in share
                ]
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    # the threshold of config.yml as it is now: a fresh run's, a cached one's only when all are cached
    threshold, ambiguity = ([r for r in runs if not r.get("cached")] or runs)[0]["fallback"]
    results: dict[str, dict[str, Any]] = {name: {} for name in sets}
    for name, data in sets.items():
        gold = [e.label for e in data.test]
        for pipeline in pipelines:
            mine = [r for r in runs if r["set"] == name and r["pipeline"] == pipeline]
            for run in mine:
                labels = prepared[name]["labels"]
                predictions = [Prediction(labels.get(p[0]) if p[0] else None, p[1], p[2]) for p in run["predictions"]]
                run["scores"] = score(gold, predictions, threshold, ambiguity)
            results[name][pipeline] = {**summarise(mine), "in_scope": len(data.test) - sum(g is None for g in gold)}
            results[name][pipeline]["out_of_scope"] = sum(g is None for g in gold)
    rows = [
        [
            name,
            pipeline,
            shown(r["accuracy"]),
            shown(r["in_scope_accuracy"]),
            shown(r["oos_recall"]),
            shown(r["in_scope_accuracy_at_0"]),
            shown(r["oos_recall_at_0"]),
            f"{r['train_s']['mean']:.0f}",
            f"{r['model_mib']['mean']:.1f}",
        ]
        for name, by_pipeline in results.items()
        for pipeline, r in by_pipeline.items()
    ]
    print()
    print(f"mean ± standard deviation over seeds {seeds}; fallback at threshold {threshold}, ambiguity {ambiguity}")
    print(
        table(
            rows,
            [
                "set",
                "pipeline",
                "accuracy",
                f"in-scope acc @{threshold}",
                f"OOS recall @{threshold}",
                "in-scope acc @0",
                "OOS recall @0",
                "train s",
                "model MiB",
            ],
        )
    )
    targets = {}
    if {"ours", "rasa_default"} <= set(pipelines):
        print()
        for name, by_pipeline in results.items():
            verdict = judge(name, by_pipeline["ours"], by_pipeline["rasa_default"])
            targets[name] = verdict
            oos_note = (
                f", OOS recall {verdict['oos_recall_difference_points']:+} points (no lower)"
                if "oos_recall_difference_points" in verdict
                else ""
            )
            print(
                f"target {name}: ours - rasa_default {verdict['figure']} {verdict['difference_points']:+} points "
                f"(at least +{verdict['target_points']}){oos_note}: {'met' if verdict['met'] else 'not met'}"
            )
        print(f"all targets {'met' if all(v['met'] for v in targets.values()) else 'not met'}")
    write_results(
        "nlu_external_quick" if args.quick else "nlu_external",
        {
            "quick": args.quick,
            "seeds": seeds,
            "fallback": {"threshold": threshold, "ambiguity_threshold": ambiguity},
            "sets": {
                name: {
                    "language": d.language,
                    "intents": len(d.labels),
                    "train_rows": len(d.train),
                    "test_rows": len(d.test),
                    "left_out": d.dropped,
                }
                for name, d in sets.items()
            },
            "results": results,
            "targets": targets,
            "runs": [{k: v for k, v in r.items() if k not in ("predictions", "kind")} for r in runs],
        },
    )


if __name__ == "__main__":
    main()
