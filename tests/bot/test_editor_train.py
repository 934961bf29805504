"""bot/editor_train.py run as the handoff service runs it (its own process,
JSON lines on stdout) on a copy of the project: it trains, reports growing
progress and scores the new model and the live one; broken data ends in a
plain-words failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.editor_train import HELD_OUT_SETS
from stack.editor import project_copy

ROOT = Path(__file__).resolve().parents[2]

REVIEWED = [
    {"key": "ev-password", "text": "şifremi unuttum yardım edin", "expected": "faq/password_reset"},
    {"key": "ev-greet", "text": "merhaba", "expected": "greet"},
    # the right intent but another FAQ's answer: not understood
    {"key": "ev-wrong-answer", "text": "şifremi unuttum", "expected": "faq/login_problem"},
    {"key": "ev-new", "text": "zorpflax quibbly vortunga", "expected": "faq/two_factor"},
]


def _run(project: Path, out: Path, cache: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.editor_train", "--project", str(project), "--out", str(out), *extra],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_CACHE_DIRECTORY": str(cache)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # every line is JSON
    return done.returncode, lines, done.stderr


def _progress(lines: list[dict[str, Any]], stage: str) -> list[float]:
    return [line["progress"] for line in lines if line["stage"] == stage]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("editor")
    (work / "reviewed.json").write_text(json.dumps(REVIEWED, ensure_ascii=False), encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def first(work) -> tuple[Path, int, list[dict[str, Any]], str]:
    """The editor's first model: no live model to compare with."""
    project = project_copy(work)
    out = work / "models" / "first.tar.gz"
    return (out, *_run(project, out, work / "cache", "--reviewed", str(work / "reviewed.json")))


def _check_scores(scores: dict[str, Any]) -> None:
    assert sorted(scores) == sorted(HELD_OUT_SETS)
    for figures in scores.values():
        assert figures["count"] > 100
        assert 0.7 < figures["f1"] <= figures["intent_f1"] <= 1
        assert 0.7 < figures["accuracy"] <= 1


def test_it_trains_reports_growing_progress_and_scores_every_held_out_set(first) -> None:
    out, code, lines, stderr = first
    assert code == 0, stderr[-3000:]
    training = _progress(lines, "training")
    assert training[0] == 0.0 and training[-1] == 1.0 and len(training) >= 5
    assert training == sorted(training) and len(set(training)) == len(training)
    evaluating = _progress(lines, "evaluating")
    assert evaluating and evaluating == sorted(evaluating) and evaluating[-1] == 1.0
    assert [line["stage"] for line in lines].index("evaluating") > [line["stage"] for line in lines].index("training")
    done = lines[-1]
    assert done["stage"] == "done" and done["model"] == str(out) and out.is_file()
    assert sorted(done["scores"]) == ["candidate"]
    _check_scores(done["scores"]["candidate"])
    assert sorted(done["understood"]["candidate"]) == ["ev-greet", "ev-password"]
    seconds = done["seconds"]
    assert {"import", "train", "evaluate", "total"} <= set(seconds)
    assert seconds["total"] >= seconds["train"] + seconds["evaluate"]
    assert "Your Rasa model is trained" in stderr  # what Rasa prints goes to stderr, not into the lines


def test_a_new_example_is_understood_by_the_candidate_and_not_by_the_live_model(work, first) -> None:
    live, code, _, stderr = first
    assert code == 0, stderr[-3000:]
    project = work / "project"
    faq = project / "data" / "faq" / "nlu_tr.yml"
    text = faq.read_text(encoding="utf-8")
    marker = "- intent: faq/two_factor\n  examples: |\n"
    assert marker in text
    faq.write_text(text.replace(marker, marker + "    - zorpflax quibbly vortunga\n"), encoding="utf-8")
    out = work / "models" / "second.tar.gz"
    code, lines, stderr = _run(
        project, out, work / "cache", "--live", str(live), "--reviewed", str(work / "reviewed.json")
    )
    assert code == 0, stderr[-3000:]
    done = lines[-1]
    assert done["stage"] == "done" and out.is_file()
    assert sorted(done["scores"]) == ["candidate", "live"]
    for name in ("candidate", "live"):
        _check_scores(done["scores"][name])
    assert "ev-new" in done["understood"]["candidate"]
    assert "ev-new" not in done["understood"]["live"]
    assert sorted(done["understood"]["live"]) == ["ev-greet", "ev-password"]


def test_broken_data_fails_in_plain_words(work, tmp_path) -> None:
    project = project_copy(tmp_path / "broken")
    core = project / "data" / "nlu" / "en" / "core.yml"
    core.write_text(core.read_text(encoding="utf-8") + "\n- intent: [unclosed\n  examples: |\n", encoding="utf-8")
    out = tmp_path / "broken.tar.gz"
    code, lines, stderr = _run(project, out, work / "cache")
    assert code == 1
    failed = lines[-1]
    assert failed["stage"] == "failed", lines
    error = failed["error"]
    assert "data/nlu/en/core.yml" in error and str(project) not in error
    assert "Traceback" not in error and "\n" not in error
    assert not out.exists()
    assert [line["stage"] for line in lines[:-1]] == ["training"] * (len(lines) - 1)


def test_a_missing_live_model_fails_before_training(work, tmp_path) -> None:
    project = project_copy(tmp_path)
    code, lines, _ = _run(project, tmp_path / "m.tar.gz", work / "cache", "--live", str(tmp_path / "nowhere.tar.gz"))
    assert code == 1
    assert lines[-1] == {"stage": "failed", "error": f"the live model {tmp_path / 'nowhere.tar.gz'} does not exist"}
