"""bench/nlu_external.py's Rasa side, run with the bot environment's python:
``python -m bench.nlu_external_rasa <jobs.json>``. For each job it writes the
NLU-only config (bench.nlu_external.bench_config), trains it with
``rasa.model_training.train_nlu`` (no training cache), loads the model with
Rasa's ``Agent`` and parses every test text. Each result is one JSON line on
stdout; everything Rasa prints goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.nlu_external import base_pipeline, bench_config, fallback_thresholds


def rasa_default_config() -> dict[str, Any]:
    import rasa

    path = Path(rasa.__file__).parent / "engine" / "recipes" / "config_files" / "default_config.yml"
    return dict(yaml.safe_load(path.read_text()))


async def parse_all(agent: Any, texts: list[str]) -> list[list[Any]]:
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = parsed.get("intent_ranking") or []
        second = ranking[1].get("confidence") if len(ranking) > 1 else None
        predictions.append([intent.get("name"), float(intent.get("confidence") or 0.0), second])
    return predictions


def run(job: dict[str, Any], rasa_default: dict[str, Any], fallback: tuple[float, float]) -> dict[str, Any]:
    import tensorflow as tf
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    work = Path(job["work"])
    tag = f"{job['set']}-{job['pipeline']}-{job['seed']}"
    work.mkdir(parents=True, exist_ok=True)
    given = yaml.safe_load(Path(job["config"]).read_text())
    config = bench_config(
        base_pipeline(given, rasa_default),
        seed=job["seed"],
        language=job["language"],
        spacy_dir=job["spacy"],
        epochs=job["epochs"],
    )
    config_path = work / f"config-{tag}.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    os.environ["RASA_CACHE_DIRECTORY"] = str(work / f"cache-{tag}")
    began = time.perf_counter()
    model = train_nlu(str(config_path), job["nlu"], str(work / "models"), fixed_model_name=tag)
    train_s = time.perf_counter() - began
    if not model:
        raise RuntimeError(f"training {tag} gave no model")
    size = Path(model).stat().st_size
    agent = Agent.load(model)
    texts = json.loads(Path(job["test"]).read_text())
    began = time.perf_counter()
    predictions = asyncio.run(parse_all(agent, texts))
    parse_s = time.perf_counter() - began
    del agent
    tf.keras.backend.clear_session()
    Path(model).unlink()
    shutil.rmtree(work / f"cache-{tag}", ignore_errors=True)
    return {
        "kind": "result",
        "set": job["set"],
        "pipeline": job["pipeline"],
        "seed": job["seed"],
        "config": {k: config[k] for k in ("language", "pipeline")},
        "train_s": round(train_s, 1),
        "parse_s": round(parse_s, 1),
        "model_mib": round(size / 2**20, 2),
        "fallback": list(fallback),
        "predictions": predictions,
    }


def main(jobs_path: str) -> None:
    out = os.fdopen(os.dup(1), "w")  # our JSON lines; Rasa's own prints go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # nothing reused from one training to the next
    spec = json.loads(Path(jobs_path).read_text())
    fallback = fallback_thresholds(yaml.safe_load(Path(spec["fallback_config"]).read_text()))
    rasa_default = rasa_default_config()
    for i, job in enumerate(spec["jobs"], 1):
        print(
            json.dumps(
                {
                    "kind": "progress",
                    "text": f"[{i}/{len(spec['jobs'])}] {job['set']} {job['pipeline']} seed {job['seed']}",
                }
            ),
            file=out,
            flush=True,
        )
        print(json.dumps(run(job, rasa_default, fallback), ensure_ascii=False), file=out, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
