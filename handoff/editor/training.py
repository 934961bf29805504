"""Training a candidate model, judging it against the live one, publishing it.

``run_training`` runs ``bot/editor_train.py`` in the bot's environment (Rasa
3.6 on Python 3.10 cannot run in this process) and relays its JSON lines:
progress to a callback, the scores at the end. It never raises for a failed
training: ``TrainResult.error`` says what went wrong in plain words.

``worse_than`` turns two sets of scores into the reasons not to publish.

``publish`` gives the model to each Rasa replica in turn (``PUT /model``)
and waits until that replica's ``GET /status`` names it before going on, so
at any moment at most one replica is switching. It stops at the first
replica that fails; the replicas after it keep the model they have.

What ``PUT /model`` does to a replica (rasa/server.py ``load_model``, Rasa
3.6.21): it builds a new agent (new tracker store, event broker and lock
store objects from the same endpoints), loads the model synchronously on the
event loop (nothing else runs on that replica meanwhile; requests wait, none
is dropped), gives the new agent the old agent's lock store and then swaps
``app.ctx.agent``. A message already being handled finishes on the old agent
and the old model, under the conversation's lock in the shared lock store;
the conversation's next message takes the same lock, so it waits for that
turn to be stored and is then handled once, by the new model.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import httpx

from handoff.settings import REPO_ROOT, child_environment
from support_rules.rasa_auth import rasa_api_headers

__all__ = [
    "DEFAULT_MARGIN",
    "ReplicaResult",
    "ReviewedMessage",
    "TrainResult",
    "publish",
    "run_training",
    "worse_than",
]

log = logging.getLogger(__name__)

DEFAULT_MARGIN = 0.02  # F1 a held-out set may lose before a candidate counts as worse
DEFAULT_TRAINING_TIMEOUT = 600.0  # seconds; a training takes 20-40 s here, 100+ on a loaded machine
_SCRIPT_MODULE = "bot.editor_train"
_LINE_LIMIT = 16 * 1024 * 1024  # the last line holds every reviewed key
_STDERR_TAIL_LINES = 40
_STATUS_POLL_SECONDS = 0.2
# the held-out sets (tests/nlu/<name>.yml), as an editor reads them
_SET_NAMES = {
    "tr": "the Turkish held-out set",
    "en": "the English held-out set",
    "blind_tr": "the blind Turkish set",
    "blind_en": "the blind English set",
}

Progress = Callable[[str, float], Awaitable[None] | None]  # (stage, 0..1)
Scores = Mapping[str, Mapping[str, Any]]  # held-out set -> {"f1", "accuracy", "count", ...}


class ReviewedMessage(TypedDict):
    key: str  # review_decisions.event_key
    text: str
    expected: str  # "faq/<id>" or an intent name


@dataclass(frozen=True)
class TrainResult:
    model: Path | None = None
    scores: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # "candidate"/"live" -> set -> figures
    understood: dict[str, list[str]] = field(default_factory=dict)  # "candidate"/"live" -> reviewed keys
    seconds: dict[str, float] = field(default_factory=dict)  # the script's, and "wall" measured here
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ReplicaResult:
    url: str
    status: Literal["published", "failed", "skipped"]
    seconds: float = 0.0
    error: str | None = None


# --- training -------------------------------------------------------------------


async def run_training(
    *,
    bot_python: str | Path,
    project: Path,
    out: Path,
    live: Path | None,
    reviewed: Sequence[ReviewedMessage] | Path | None,
    on_progress: Progress | None,
    timeout: float = DEFAULT_TRAINING_TIMEOUT,
    code_root: Path = REPO_ROOT,
    env: Mapping[str, str] | None = None,
) -> TrainResult:
    """Train ``project`` into ``out`` and score it (and ``live``) in the bot's
    Python. ``reviewed``: the messages to check, or a JSON file of them.
    ``code_root`` holds ``bot/`` (the script and the pipeline's components);
    ``env`` adds to this process's environment (e.g. ``RASA_CACHE_DIRECTORY``,
    Rasa's training cache, by default ``.rasa/cache`` under ``code_root``)."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="editor-train-") as folder:
        arguments = ["--project", str(Path(project).resolve()), "--out", str(Path(out).resolve())]
        if live is not None:
            arguments += ["--live", str(Path(live).resolve())]
        if isinstance(reviewed, Path):
            arguments += ["--reviewed", str(reviewed.resolve())]
        elif reviewed:
            path = Path(folder) / "reviewed.json"
            path.write_text(json.dumps(list(reviewed), ensure_ascii=False), encoding="utf-8")
            arguments += ["--reviewed", str(path)]
        try:
            result = await asyncio.wait_for(
                _run_script(str(bot_python), arguments, code_root, env or {}, on_progress), timeout=timeout
            )
        except TimeoutError:
            result = TrainResult(error=f"the training took longer than {timeout:.0f} s and was stopped")
        except OSError as error:
            result = TrainResult(error=f"the bot's Python could not be started ({bot_python}: {error.strerror})")
        except Exception as error:  # e.g. an output line past the limit
            log.exception("editor training could not be followed")
            result = TrainResult(error=f"the training's output could not be read ({type(error).__name__}: {error})")
    wall = round(time.perf_counter() - began, 2)
    return TrainResult(result.model, result.scores, result.understood, {**result.seconds, "wall": wall}, result.error)


async def _run_script(
    bot_python: str, arguments: list[str], code_root: Path, env: Mapping[str, str], on_progress: Progress | None
) -> TrainResult:
    process = await asyncio.create_subprocess_exec(
        bot_python,
        "-m",
        _SCRIPT_MODULE,
        *arguments,
        cwd=code_root,
        env=child_environment({"RASA_TELEMETRY_ENABLED": "false", **env}),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=_LINE_LIMIT,
    )
    stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
    drain = asyncio.create_task(_drain(process.stderr, stderr_tail))
    last: dict[str, Any] | None = None
    try:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = _json_line(raw)
            if line is None:
                continue
            if line.get("stage") in {"done", "failed"}:
                last = line
            elif isinstance(line.get("progress"), int | float):
                await _tell(on_progress, str(line.get("stage")), float(line["progress"]))
        code = await process.wait()
        await drain
    except BaseException:  # a timeout or a cancelled caller: no training may outlive it
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        drain.cancel()
        raise
    if code == 0 and last is not None and last.get("stage") == "done":
        return TrainResult(
            model=Path(str(last["model"])),
            scores=dict(last.get("scores") or {}),
            understood=dict(last.get("understood") or {}),
            seconds=dict(last.get("seconds") or {}),
        )
    log.warning("editor training exited with %s; its last output:\n%s", code, "\n".join(stderr_tail))
    if last is not None and last.get("stage") == "failed":
        return TrainResult(error=str(last.get("error") or "the training failed"))
    return TrainResult(error=f"the training process ended without a result (exit status {code})")


def _json_line(raw: bytes) -> dict[str, Any] | None:
    try:
        line = json.loads(raw)
    except ValueError:
        log.info("editor training printed a line that is not JSON: %r", raw[:200])
        return None
    return line if isinstance(line, dict) else None


async def _drain(stream: asyncio.StreamReader | None, tail: deque[str]) -> None:
    if stream is None:
        return
    async for raw in stream:
        tail.append(raw.decode("utf-8", "replace").rstrip())


async def _tell(on_progress: Progress | None, stage: str, value: float) -> None:
    if on_progress is None:
        return
    try:
        answer = on_progress(stage, value)
        if inspect.isawaitable(answer):
            await answer
    except Exception:  # a progress display that fails must not stop the training
        log.exception("the training progress callback failed")


# --- judging ---------------------------------------------------------------------


def worse_than(candidate_scores: Scores, live_scores: Scores | None, margin: float = DEFAULT_MARGIN) -> list[str]:
    """Why the candidate is worse than the live model, in plain words: each
    held-out set whose F1 fell by more than ``margin``. Empty: publishable."""
    reasons = []
    for name, live in (live_scores or {}).items():
        where = _SET_NAMES.get(name, f"the set {name}")
        candidate = candidate_scores.get(name)
        if candidate is None:
            reasons.append(f"The new model has no score on {where}.")
            continue
        new, old = float(candidate["f1"]), float(live["f1"])
        if old - new > margin + 1e-9:
            reasons.append(
                f"On {where} the new model's F1 is {new:.3f}, the live model's {old:.3f}: "
                f"{old - new:.3f} lower, more than the {margin:.2f} allowed."
            )
    return reasons


# --- publishing --------------------------------------------------------------------


async def publish(
    model_path: Path,
    *,
    rasa_urls: list[str],
    jwt_secret: str,
    timeout: float,
    client: httpx.AsyncClient | None = None,
) -> list[ReplicaResult]:
    """Load ``model_path`` (a path every replica can read) into each replica
    in turn. One result per URL, in order: ``published``, then at most one
    ``failed`` (with the reason), then ``skipped`` for the rest."""
    model_id = await asyncio.to_thread(_model_id, Path(model_path))
    results: list[ReplicaResult] = []
    async with contextlib.AsyncExitStack() as stack:
        http = client
        if http is None:
            http = httpx.AsyncClient()
            stack.push_async_callback(http.aclose)
        for url in rasa_urls:
            if results and results[-1].status != "published":
                failed = next(r.url for r in results if r.status == "failed")
                results.append(ReplicaResult(url, "skipped", error=f"not attempted: {failed} failed first"))
                continue
            results.append(await _publish_one(http, url.rstrip("/"), Path(model_path), model_id, jwt_secret, timeout))
    return results


async def _publish_one(
    http: httpx.AsyncClient, url: str, model_path: Path, model_id: str | None, jwt_secret: str, timeout: float
) -> ReplicaResult:
    began = time.perf_counter()
    try:
        await asyncio.wait_for(_load_and_confirm(http, url, model_path, model_id, jwt_secret), timeout=timeout)
    except TimeoutError:
        error = f"did not report the new model within {timeout:.0f} s"
    except httpx.HTTPError as problem:
        error = _unreachable(problem)
    except _Refused as refused:
        error = str(refused)
    else:
        return ReplicaResult(url, "published", round(time.perf_counter() - began, 2))
    log.warning("publishing %s to %s failed: %s", model_path, url, error)
    return ReplicaResult(url, "failed", round(time.perf_counter() - began, 2), f"Rasa at {url} {error}")


class _Refused(Exception):
    pass


async def _load_and_confirm(
    http: httpx.AsyncClient, url: str, model_path: Path, model_id: str | None, jwt_secret: str
) -> None:
    answer = await http.put(
        f"{url}/model",
        json={"model_file": str(model_path)},
        headers=rasa_api_headers(jwt_secret),
        timeout=None,  # bounded by the caller's timeout
    )
    if answer.status_code != 204:
        raise _Refused(f"refused the model ({answer.status_code}: {_rasa_message(answer)})")
    while True:
        status = await http.get(f"{url}/status", headers=rasa_api_headers(jwt_secret), timeout=None)
        if status.status_code == 200:
            try:
                body = status.json()
            except ValueError as exc:
                raise _Refused("answered /status with something that is not JSON") from exc
            if not isinstance(body, dict):
                raise _Refused("answered /status with JSON that is not an object")
            if body.get("model_file") == model_path.name and (model_id is None or body.get("model_id") == model_id):
                return
        elif status.status_code != 409:  # 409: no model loaded (yet)
            raise _Refused(f"answered /status with {status.status_code}: {_rasa_message(status)}")
        await asyncio.sleep(_STATUS_POLL_SECONDS)


def _model_id(model_path: Path) -> str | None:
    """The id Rasa reports in /status for this archive (its metadata.json);
    None when this process cannot read the file (it lives on the replicas)."""
    try:
        with tarfile.open(model_path, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("/") == "metadata.json":
                    stream = archive.extractfile(member)
                    return str(json.load(stream)["model_id"]) if stream else None
    except (OSError, tarfile.TarError, ValueError, KeyError):
        log.info("model %s not readable here: publishing compares its file name only", model_path)
    return None


def _rasa_message(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200] or answer.reason_phrase
    return str(body.get("message") or body.get("reason") or body)[:300] if isinstance(body, dict) else str(body)[:300]


def _unreachable(problem: httpx.HTTPError) -> str:
    if isinstance(problem, httpx.ConnectError):
        return "could not be reached (nothing answered at that address)"
    if isinstance(problem, httpx.TimeoutException):
        return "did not answer in time"
    return f"could not be reached ({type(problem).__name__}: {problem})"
