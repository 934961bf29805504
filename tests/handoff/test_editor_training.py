"""handoff/editor/training.py: the verdict on a candidate's scores, the
training relayed from the bot's environment, and publishing to real Rasa
servers, replica by replica.

The served model is ``EDITOR_TEST_MODEL`` or ``models/triage.tar.gz``
(``make train``); without either the tests train one first. The candidate is
always trained here, through ``run_training`` with the bot's Python."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from handoff.editor.training import ReplicaResult, TrainResult, publish, run_training, worse_than
from stack.editor import project_copy
from stack.live import free_port, wait_until_up
from support_rules.rasa_auth import JWT_METHOD, rasa_api_headers

ROOT = Path(__file__).resolve().parents[2]
BOT_BIN = ROOT / ".venv" / "bot" / "bin"
JWT_SECRET = "editor-training-test-jwt-secret-0123456789"

LIVE = {
    "tr": {"f1": 0.94, "accuracy": 0.95, "count": 280},
    "en": {"f1": 0.92, "accuracy": 0.93, "count": 280},
    "blind_tr": {"f1": 0.87, "accuracy": 0.88, "count": 672},
    "blind_en": {"f1": 0.88, "accuracy": 0.88, "count": 672},
}


def _with(**f1: float) -> dict[str, dict[str, float]]:
    return {name: {**figures, "f1": f1.get(name, figures["f1"])} for name, figures in LIVE.items()}


# --- worse_than ----------------------------------------------------------------------


def test_the_same_or_better_scores_are_publishable() -> None:
    assert worse_than(LIVE, LIVE) == []
    assert worse_than(_with(tr=0.99, blind_en=0.95), LIVE) == []


def test_a_loss_within_the_margin_is_publishable() -> None:
    assert worse_than(_with(blind_tr=0.85), LIVE) == []  # exactly 0.02 lower
    assert worse_than(_with(blind_tr=0.851, en=0.905), LIVE) == []


def test_each_set_that_lost_more_than_the_margin_is_a_reason() -> None:
    reasons = worse_than(_with(blind_tr=0.84, en=0.80), LIVE)
    assert len(reasons) == 2
    assert "the English held-out set" in reasons[0] and "0.800" in reasons[0] and "0.920" in reasons[0]
    assert "the blind Turkish set" in reasons[1] and "0.840" in reasons[1] and "0.870" in reasons[1]
    assert worse_than(_with(blind_tr=0.84), LIVE, margin=0.05) == []
    assert len(worse_than(_with(tr=0.935), LIVE, margin=0)) == 1


def test_a_set_without_a_score_is_a_reason_and_no_live_model_none() -> None:
    candidate = {name: figures for name, figures in LIVE.items() if name != "blind_en"}
    assert worse_than(candidate, LIVE) == ["The new model has no score on the blind English set."]
    assert worse_than(candidate, None) == [] and worse_than(candidate, {}) == []


# --- run_training with a stand-in script -------------------------------------------------


def _stand_in(tmp_path: Path, body: str) -> Path:
    """A code root whose bot/editor_train.py is ``body`` (run by this Python)."""
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "editor_train.py").write_text(textwrap.dedent(body))
    return tmp_path


async def test_progress_is_relayed_and_the_result_read(tmp_path) -> None:
    root = _stand_in(
        tmp_path,
        """\
        import json, sys
        args = sys.argv[1:]
        assert json.load(open(args[args.index("--reviewed") + 1])) == [{"key": "k", "text": "t", "expected": "greet"}]
        print("Rasa says hello", flush=True)
        for value in (0.0, 0.5, 1.0):
            print(json.dumps({"stage": "training", "progress": value}), flush=True)
        print(json.dumps({"stage": "evaluating", "progress": 1.0}))
        print(json.dumps({"stage": "done", "model": args[args.index("--out") + 1],
                          "scores": {"candidate": {"tr": {"f1": 0.9}}}, "understood": {"candidate": ["k"]},
                          "seconds": {"train": 1.5}}))
        """,
    )
    seen: list[tuple[str, float]] = []

    async def on_progress(stage: str, value: float) -> None:
        seen.append((stage, value))

    result = await run_training(
        bot_python=sys.executable,
        project=tmp_path,
        out=tmp_path / "m.tar.gz",
        live=None,
        reviewed=[{"key": "k", "text": "t", "expected": "greet"}],
        on_progress=on_progress,
        code_root=root,
    )
    assert result.ok and result.error is None
    assert result.model == (tmp_path / "m.tar.gz").resolve()
    assert result.scores == {"candidate": {"tr": {"f1": 0.9}}} and result.understood == {"candidate": ["k"]}
    assert result.seconds["train"] == 1.5 and result.seconds["wall"] > 0
    assert seen == [("training", 0.0), ("training", 0.5), ("training", 1.0), ("evaluating", 1.0)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            'import json; print(json.dumps({"stage": "failed", "error": "data/x.yml line 3 is broken"})); raise SystemExit(1)',
            "data/x.yml line 3 is broken",
        ),
        ("raise SystemExit(3)", "the training process ended without a result (exit status 3)"),
        ("import time; time.sleep(30)", "the training took longer than 1 s and was stopped"),
    ],
)
async def test_a_failed_training_is_a_result_not_an_exception(tmp_path, body, error) -> None:
    root = _stand_in(tmp_path, body)
    progress_fails = lambda stage, value: 1 / 0  # noqa: E731  a broken display does not matter either
    result = await run_training(
        bot_python=sys.executable,
        project=tmp_path,
        out=tmp_path / "m.tar.gz",
        live=None,
        reviewed=None,
        on_progress=progress_fails,
        timeout=1,
        code_root=root,
    )
    assert not result.ok and result.error == error and result.model is None


async def test_a_missing_bot_python_is_a_result(tmp_path) -> None:
    result = await run_training(
        bot_python=tmp_path / "no-python",
        project=tmp_path,
        out=tmp_path / "m.tar.gz",
        live=None,
        reviewed=None,
        on_progress=None,
    )
    assert result.error is not None and "could not be started" in result.error


# --- the real training and real Rasa servers ---------------------------------------------


def _train(project: Path, out: Path, cache: Path, live: Path | None = None) -> TrainResult:
    result = asyncio.run(
        run_training(
            bot_python=BOT_BIN / "python",
            project=project,
            out=out,
            live=live,
            reviewed=None,
            on_progress=None,
            env={"RASA_CACHE_DIRECTORY": str(cache)},
        )
    )
    assert result.ok, result.error
    return result


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> tuple[Path, Path, TrainResult]:
    """(the model the servers start with, the candidate, its training)."""
    work = tmp_path_factory.mktemp("editor-training")
    project = project_copy(work)
    served = Path(os.environ.get("EDITOR_TEST_MODEL") or ROOT / "models" / "triage.tar.gz")
    if not served.is_file():
        served = _train(project, work / "served.tar.gz", work / "cache").model or served
    candidate = _train(project, work / "candidate.tar.gz", work / "cache", live=served)
    assert candidate.model is not None
    return served, candidate.model, candidate


def _status(url: str) -> dict:
    return httpx.get(f"{url}/status", headers=rasa_api_headers(JWT_SECRET), timeout=30).json()


@pytest.fixture(scope="module")
def replicas(models, tmp_path_factory) -> Iterator[list[str]]:
    """Two Rasa servers (HTTP API, JWT), both serving the first model."""
    served, _, _ = models
    logs = tmp_path_factory.mktemp("rasa-logs")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    endpoints = logs / "endpoints.yml"  # in-memory stores: not the project's endpoints.yml
    endpoints.write_text("lock_store:\n  type: in_memory\n")
    started: list[tuple[subprocess.Popen, str, Path]] = []
    try:
        for number in range(2):
            port = free_port()
            log = logs / f"rasa-{number}.log"
            process = subprocess.Popen(
                [str(BOT_BIN / "rasa"), "run", "--enable-api", "--jwt-secret", JWT_SECRET, "--jwt-method", JWT_METHOD]
                + ["--interface", "127.0.0.1", "--port", str(port), "--model", str(served)]
                + ["--endpoints", str(endpoints)],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, url, log in started:
            wait_until_up(f"{url}/", process, log)
        yield [url for _, url, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def reset(models, replicas) -> list[str]:
    """Both replicas back on the first model."""
    served, _, _ = models
    for url in replicas:
        answer = httpx.put(
            f"{url}/model", json={"model_file": str(served)}, headers=rasa_api_headers(JWT_SECRET), timeout=120
        )
        assert answer.status_code == 204, answer.text
    return replicas


def test_the_real_training_scores_candidate_and_live(models) -> None:
    _, candidate, result = models
    assert candidate.is_file()
    for name in ("candidate", "live"):
        assert sorted(result.scores[name]) == ["blind_en", "blind_tr", "en", "tr"]
    assert worse_than(result.scores["candidate"], result.scores["live"]) == []  # the same data
    assert {"train", "evaluate", "total", "wall"} <= set(result.seconds)


async def test_publish_loads_each_replica_in_turn(models, reset) -> None:
    served, candidate, _ = models
    before = {url: _status(url)["model_id"] for url in reset}
    order: list[tuple[str, str, str]] = []  # (method, replica, its model file when the request went out)

    async def note(request: httpx.Request) -> None:
        replica = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        other = next(url for url in reset if url != replica)
        order.append((request.method, replica, (await asyncio.to_thread(_status, other))["model_file"]))

    async with httpx.AsyncClient(event_hooks={"request": [note]}) as client:
        results = await publish(candidate, rasa_urls=reset, jwt_secret=JWT_SECRET, timeout=120, client=client)
    assert [r.status for r in results] == ["published", "published"] and all(r.error is None for r in results)
    first, second = reset
    methods = [(method, replica) for method, replica, _ in order]
    assert methods[0] == ("PUT", first) and ("GET", first) in methods
    assert methods.index(("PUT", second)) > max(i for i, m in enumerate(methods) if m == ("GET", first))
    # while the first replica switched, the second still served the old model; when the
    # second's turn came, the first served the new one
    assert all(model == served.name for method, replica, model in order if replica == first)
    assert all(model == candidate.name for method, replica, model in order if replica == second)
    for url in reset:
        status = _status(url)
        assert status["model_file"] == candidate.name and status["model_id"] != before[url]


async def test_a_dead_replica_stops_the_publish_and_says_which(models, reset) -> None:
    served, candidate, _ = models
    dead = f"http://127.0.0.1:{free_port()}"
    results = await publish(candidate, rasa_urls=[dead, *reset], jwt_secret=JWT_SECRET, timeout=30)
    assert [r.status for r in results] == ["failed", "skipped", "skipped"]
    assert (
        results[0].url == dead
        and results[0].error == f"Rasa at {dead} could not be reached (nothing answered at that address)"
    )
    assert results[1].error == f"not attempted: {dead} failed first"
    assert all(_status(url)["model_file"] == served.name for url in reset)  # they keep what they have

    results = await publish(candidate, rasa_urls=[reset[0], dead, reset[1]], jwt_secret=JWT_SECRET, timeout=30)
    assert [(r.url, r.status) for r in results] == [(reset[0], "published"), (dead, "failed"), (reset[1], "skipped")]
    assert _status(reset[0])["model_file"] == candidate.name and _status(reset[1])["model_file"] == served.name


async def test_a_model_rasa_cannot_load_is_a_failure_in_words(reset, tmp_path) -> None:
    missing = tmp_path / "missing.tar.gz"
    results = await publish(missing, rasa_urls=reset, jwt_secret=JWT_SECRET, timeout=60)
    assert [r.status for r in results] == ["failed", "skipped"]
    assert results[0].error is not None and results[0].error.startswith(f"Rasa at {reset[0]} refused the model (400")


async def test_a_wrong_secret_is_refused(models, reset) -> None:
    _, candidate, _ = models
    results = await publish(candidate, rasa_urls=reset[:1], jwt_secret="not-the-secret", timeout=30)
    assert results == [ReplicaResult(reset[0], "failed", results[0].seconds, results[0].error)]
    assert results[0].error is not None and "refused the model (401" in results[0].error
