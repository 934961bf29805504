"""An editor's training in one process: ``python -m bot.editor_train``.

Trains a model from a project root (its ``domain/``, ``data/`` and
``config.yml``) with Rasa's Python API, then scores it, and the live model
if one is given, on the project's held-out sets (``tests/nlu/{tr,en,
blind_tr,blind_en}.yml``) and on the messages editors reviewed. One process,
one Rasa import, each model loaded once and every set parsed in one batch:
the editor's whole click-to-serving budget is 90 s on two cores.

stdout carries JSON lines only (anything Rasa or TensorFlow print goes to
stderr)::

    {"stage": "training", "progress": 0.37}
    {"stage": "evaluating", "progress": 0.5}
    {"stage": "done", "model": ..., "scores": {"candidate": {set: {f1, accuracy, count, intent_f1}}, "live": ...},
     "understood": {"candidate": [keys], "live": [keys]}, "seconds": {...}}

or, last, ``{"stage": "failed", "error": "plain words"}`` with exit status 1.

Scores (weighted F1, accuracy, count) are those of ``rasa test nlu`` except
that a FAQ example counts as right only with the right answer: its label is
the full retrieval intent ("faq/login_problem", from the response selector),
not "faq"; ``intent_f1`` is the F1 with "faq" as one intent, the figure of
``make nlu-report``. As ``rasa test nlu`` does, a fallback prediction is
undone before scoring (the intent behind it is scored). A reviewed message is
understood when the model, fallback included, gives what the editor
expected: the FAQ answer for "faq/<id>", the intent otherwise, which is
what the customer would now get.

Run it from the repository root (the pipeline's components are
``bot.components``; a relative path in config.yml resolves there). Rasa's
training cache is ``RASA_CACHE_DIRECTORY`` (default ``.rasa/cache``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["HELD_OUT_SETS", "EditorTrainingError", "Reviewed", "main", "read_reviewed"]

HELD_OUT_SETS = ("tr", "en", "blind_tr", "blind_en")
_GRAPH_LOGGER = "rasa.engine.graph"
_NODE_RUNNING = re.compile(r"^Node '(?P<node>[^']+)' running '(?P<component>[^.']+)\.")
_FINGERPRINT_COMPONENT = "FingerprintComponent"
_MAX_ERROR_CHARS = 600

log = logging.getLogger(__name__)
_STARTED = time.perf_counter()  # the standard library's imports are all that comes before


class EditorTrainingError(Exception):
    """A failure to report as it is worded (already plain)."""


@dataclass(frozen=True)
class Reviewed:
    key: str
    text: str
    expected: str  # "faq/<id>" or an intent name


# --- the JSON lines ----------------------------------------------------------


class _Lines:
    """JSON lines on the process's real stdout. The file descriptor 1 itself
    goes to stderr, so nothing Rasa, TensorFlow or a C library prints can
    break a line the caller parses."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._out: IO[str] = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        self._last_progress: dict[str, float] = {}

    def emit(self, line: dict[str, Any]) -> None:
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._out.flush()

    def progress(self, stage: str, value: float) -> None:
        """Only growing values, in steps of at least 0.01 (1.0 always)."""
        value = round(min(max(value, 0.0), 1.0), 3)
        last = self._last_progress.get(stage, -1.0)
        if value >= 1.0 > last or value >= last + 0.01:
            self._last_progress[stage] = value
            self.emit({"stage": stage, "progress": value})


class _GraphProgress(logging.Handler):
    """Training progress from Rasa's graph runs, read from the debug line each
    graph node logs as it runs ("Node 'x' running 'Component.fn'.").

    Training runs the train graph twice: a fingerprint run over all of its
    ``nodes`` (each non-input node as a FingerprintComponent: what the cache
    already holds), then the real run over what is left (at most ``nodes``).
    The first counts for the first half of the bar, the second for the rest;
    a run with cache hits ends early and the bar jumps to 1 when training
    returns."""

    def __init__(self, nodes: int, report: Callable[[float], None], start: float = 0.1) -> None:
        super().__init__(level=logging.DEBUG)
        self._nodes = max(nodes, 1)
        self._report = report
        self._start = start
        self._fingerprinted: set[str] = set()
        self._trained = 0

    def emit(self, record: logging.LogRecord) -> None:
        found = _NODE_RUNNING.match(record.getMessage())
        if not found:
            return
        if len(self._fingerprinted) < self._nodes and (
            found["component"] == _FINGERPRINT_COMPONENT or found["node"] not in self._fingerprinted
        ):
            self._fingerprinted.add(found["node"])
        else:
            self._trained += 1
        done = len(self._fingerprinted) / self._nodes / 2 + min(self._trained / self._nodes, 1.0) / 2
        self._report(self._start + (0.99 - self._start) * done)


@contextlib.contextmanager
def _listening(handler: logging.Handler) -> Iterator[None]:
    logger = logging.getLogger(_GRAPH_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# --- inputs --------------------------------------------------------------------


def read_reviewed(path: Path) -> list[Reviewed]:
    """The reviewed messages: ``[{"key", "text", "expected"}, ...]``."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EditorTrainingError(f"the reviewed messages could not be read from {path}: {error}") from error
    if not isinstance(items, list):
        raise EditorTrainingError(f"the reviewed messages in {path} are not a list")
    reviewed = []
    for number, item in enumerate(items, start=1):
        fields = [item.get(name) if isinstance(item, dict) else None for name in ("key", "text", "expected")]
        if not all(isinstance(value, str) and value.strip() for value in fields):
            raise EditorTrainingError(f"reviewed message {number} in {path} needs a key, a text and an expected intent")
        reviewed.append(Reviewed(*(str(value) for value in fields)))
    return reviewed


def _check_project(project: Path, live: Path | None) -> None:
    missing = [name for name in ("domain", "data", "config.yml") if not (project / name).exists()]
    if missing:
        raise EditorTrainingError(f"the project {project} has no {', '.join(missing)}")
    absent = [name for name in HELD_OUT_SETS if not (project / "tests" / "nlu" / f"{name}.yml").is_file()]
    if absent:
        raise EditorTrainingError(f"the project {project} lacks the held-out sets {', '.join(absent)} in tests/nlu")
    if live is not None and not live.is_file():
        raise EditorTrainingError(f"the live model {live} does not exist")


# --- training --------------------------------------------------------------------


def _train_schema_size(project: Path) -> int:
    """How many nodes the train graph has (config.yml only: no data read)."""
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(str(project / "config.yml"))
    config = importer.get_config()
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    config, _, _ = recipe.auto_configure(importer.get_config_file_for_auto_config(), config, TrainingType.BOTH)
    configuration = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
    return len(configuration.train_schema.nodes)


def _train(project: Path, out: Path, lines: _Lines) -> Path:
    from rasa.model_training import train

    nodes = _train_schema_size(project)
    lines.progress("training", 0.1)
    out.parent.mkdir(parents=True, exist_ok=True)
    progress = _GraphProgress(nodes, lambda value: lines.progress("training", value))
    with _listening(progress):
        try:
            result = train(
                domain=str(project / "domain"),
                config=str(project / "config.yml"),
                training_files=[str(project / "data")],
                output=str(out.parent),
                fixed_model_name=out.name,
            )
        except SystemExit as stopped:  # Rasa's print_error_and_exit
            raise EditorTrainingError("Rasa stopped the training (its reason is in the log)") from stopped
    if result.code != 0 or not result.model or not Path(result.model).is_file():
        raise EditorTrainingError("Rasa found no training data to train on")
    lines.progress("training", 1.0)
    return Path(result.model)


# --- evaluation ------------------------------------------------------------------


@dataclass(frozen=True)
class _Examples:
    texts: list[str]
    labels: list[str]  # "faq/<id>" for FAQ examples, the intent otherwise


def _held_out(path: Path) -> _Examples:
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = [e for e in data.intent_examples if e.get(TEXT)]
    return _Examples(
        [str(e.get(TEXT)) for e in examples], [str(e.get(INTENT_RESPONSE_KEY) or e.get(INTENT)) for e in examples]
    )


class _Model:
    """A trained model's NLU graph, loaded once, parsing batches."""

    def __init__(self, path: Path) -> None:
        from rasa.engine.loader import load_predict_graph_runner
        from rasa.engine.runner.dask import DaskGraphRunner
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        try:
            with tempfile.TemporaryDirectory(prefix="editor-model-") as folder:
                self._metadata, self._runner = load_predict_graph_runner(
                    Path(folder), path, LocalModelStorage, DaskGraphRunner
                )
        except Exception as error:
            raise EditorTrainingError(f"the model {path} could not be loaded: {error}") from error

    def parse(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker

        if not texts:
            return []
        target = self._metadata.nlu_target
        results = self._runner.run(
            inputs={
                PLACEHOLDER_MESSAGE: [UserMessage(text=text) for text in texts],
                PLACEHOLDER_TRACKER: DialogueStateTracker.from_events("editor-evaluation", []),
            },
            targets=[target],
        )
        return [message.as_dict(only_output_properties=False) for message in results[target]]


def _label(parse: dict[str, Any]) -> str:
    """The full retrieval intent for a FAQ ("faq/login_problem"), else the intent."""
    intent = str((parse.get("intent") or {}).get("name") or "")
    selected = (parse.get("response_selector") or {}).get(intent) or {}
    return str((selected.get("response") or {}).get("intent_response_key") or intent)


def _intents(labels: list[str]) -> list[str]:
    """Every FAQ answer as "faq": the labels ``make nlu-report`` scores."""
    return [label.partition("/")[0] for label in labels]


def _without_fallback(parse: dict[str, Any]) -> dict[str, Any]:
    from rasa.nlu.classifiers.fallback_classifier import is_fallback_classifier_prediction, undo_fallback_prediction

    return undo_fallback_prediction(parse) if is_fallback_classifier_prediction(parse) else parse


def _scores(gold: list[str], predicted: list[str]) -> dict[str, float | int]:
    from sklearn.metrics import accuracy_score, f1_score

    if not gold:
        return {"f1": 0.0, "accuracy": 0.0, "count": 0}
    f1 = f1_score(gold, predicted, average="weighted", zero_division=0)
    return {"f1": round(float(f1), 4), "accuracy": round(float(accuracy_score(gold, predicted)), 4), "count": len(gold)}


def _is_understood(parse: dict[str, Any], expected: str) -> bool:
    if "/" in expected:
        return _label(parse) == expected
    return str((parse.get("intent") or {}).get("name") or "") == expected


def _evaluate(
    models: dict[str, Path], sets: dict[str, _Examples], reviewed: list[Reviewed], lines: _Lines
) -> tuple[dict[str, dict[str, dict[str, float | int]]], dict[str, list[str]]]:
    """Every held-out set and the reviewed messages, one batch per model."""
    texts = [text for examples in sets.values() for text in examples.texts] + [r.text for r in reviewed]
    scores: dict[str, dict[str, dict[str, float | int]]] = {}
    understood: dict[str, list[str]] = {}
    for done, (name, path) in enumerate(models.items()):
        parses = _Model(path).parse(texts)
        lines.progress("evaluating", (done + 0.9) / len(models))
        at = 0
        scores[name] = {}
        for set_name, examples in sets.items():
            batch = parses[at : at + len(examples.texts)]
            at += len(examples.texts)
            predicted = [_label(_without_fallback(parse)) for parse in batch]
            scores[name][set_name] = {
                **_scores(examples.labels, predicted),
                "intent_f1": _scores(_intents(examples.labels), _intents(predicted))["f1"],
            }
        understood[name] = [
            r.key for r, parse in zip(reviewed, parses[at:], strict=True) if _is_understood(parse, r.expected)
        ]
        lines.progress("evaluating", (done + 1) / len(models))
    return scores, understood


# --- errors in plain words -----------------------------------------------------------


def _plain(error: BaseException, project: Path) -> str:
    """One readable sentence: Rasa's message without its traceback and with
    the project's paths relative to it."""
    message = str(error) if isinstance(error, EditorTrainingError) else _in_words(error)
    message = message.replace(f"{project}{os.sep}", "")
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 1] + "…"
    return message


def _in_words(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    unexpected = f"training stopped on an unexpected error ({type(error).__name__}: {text})"
    try:
        from rasa.shared.exceptions import RasaException, YamlException
    except Exception:  # Rasa itself could not be imported
        return unexpected
    cause = error.__cause__ or error.__context__
    if isinstance(error, YamlException):
        return f"a data file could not be read: {text}"
    if isinstance(error, RasaException):
        return f"the training data is not valid: {text}"
    if isinstance(cause, RasaException):
        return f"the training data is not valid: {' '.join(str(cause).split())}"
    return unexpected


# --- the command ---------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.editor_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, required=True, help="root with domain/, data/, config.yml, tests/nlu/")
    parser.add_argument("--out", type=Path, required=True, help="the new model's file (.tar.gz)")
    parser.add_argument("--live", type=Path, help="the model serving now, scored beside the new one")
    parser.add_argument("--reviewed", type=Path, help="JSON list of {key, text, expected}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    lines = _Lines()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    project = args.project.resolve()
    out = args.out.resolve()
    if not out.name.endswith(".tar.gz"):
        out = out.with_name(f"{out.name}.tar.gz")
    lines.progress("training", 0.0)
    seconds: dict[str, float] = {}
    try:
        _check_project(project, args.live)
        reviewed = read_reviewed(args.reviewed) if args.reviewed else []
        began = time.perf_counter()
        import rasa.model_training  # noqa: F401  the one Rasa import (TensorFlow too): seconds["import"]

        seconds["import"] = time.perf_counter() - began
        lines.progress("training", 0.05)
        began = time.perf_counter()
        model = _train(project, out, lines)
        seconds["train"] = time.perf_counter() - began
        lines.progress("evaluating", 0.0)
        began = time.perf_counter()
        sets = {name: _held_out(project / "tests" / "nlu" / f"{name}.yml") for name in HELD_OUT_SETS}
        models = {"candidate": model, **({"live": args.live.resolve()} if args.live else {})}
        scores, understood = _evaluate(models, sets, reviewed, lines)
        seconds["evaluate"] = time.perf_counter() - began
    except (Exception, SystemExit) as error:
        log.warning("editor training failed", exc_info=error)
        lines.emit({"stage": "failed", "error": _plain(error, project)})
        return 1
    seconds["total"] = time.perf_counter() - _STARTED
    lines.emit(
        {
            "stage": "done",
            "model": str(model),
            "scores": scores,
            "understood": understood,
            "seconds": {name: round(value, 2) for name, value in seconds.items()},
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
