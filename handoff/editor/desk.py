"""The editors' desk: decisions on the review inbox, trainings, publishing.

What an editor decides about a customer line becomes a ``ReviewDecision``
row (the line leaves the inbox) and, for an intent or an FAQ, a change to
the project's training data: planned (``handoff.editor.project``), checked
in a copy of the project (``handoff.editor.validation``), then written in
place, committed to the editor's git branch, or handed back as a patch,
as ``HANDOFF_EDITOR_MODE`` says. A change with an error is not written.

A training runs in the background of the replica that started it
(``handoff.editor.training``); its row in ``model_versions`` carries its
progress, so every replica's console sees it. Publishing loads the model
into every Rasa server in turn; a model that scores worse than the live
one on a held-out set (by more than ``HANDOFF_EDITOR_MARGIN``) is refused;
a model that was live before can be restored without that check.

Every write is in the audit log under the editor's username.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.db import insert_for
from handoff.editor import project as project_files
from handoff.editor import training
from handoff.editor.branch import BranchError, branch_name, commit_to_branch, unified_patch
from handoff.editor.validation import Problem, content_problems, validate
from handoff.errors import BadRequest, Conflict, NotFound, NotSetUp, Unavailable
from handoff.models import (
    Agent,
    ConversationEvent,
    ConversationLanguage,
    ModelVersion,
    ReviewDecision,
    utcnow,
)
from handoff.repo.audit import add_audit
from handoff.settings import Settings
from support_rules.language import SUPPORTED_LANGUAGES
from support_rules.language_detect import detect_language

__all__ = [
    "EditorSetup",
    "decide",
    "targets",
    "model_json",
    "list_models",
    "start_training",
    "publish_model",
    "TRAINING_STALE_AFTER",
]

log = logging.getLogger(__name__)

# a training row older than this that still says "training" was cut off
# (the replica that ran it stopped): it is marked failed
TRAINING_STALE_AFTER = timedelta(minutes=15)
# the parts of a project a training and a check read
# (actions/: the check knows which responses only the custom actions send)
_PROJECT_PARTS = ("domain", "data", "config.yml", "tests/nlu", "actions")
_WRITES = ("intent", "faq", "new_faq")
# seconds a Rasa server may take to load a model and say so
PUBLISH_TIMEOUT = 120.0


@dataclass(frozen=True)
class EditorSetup:
    """What this deployment lets the editors do, from the settings."""

    project: Path | None
    mode: str
    bot_python: Path | None
    models_dir: Path | None
    live_model: Path | None
    rasa_urls: tuple[str, ...]
    jwt_secret: str
    margin: float
    timeout_seconds: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> EditorSetup:
        project = Path(settings.editor_project).resolve() if settings.editor_project else None
        models = settings.editor_models_dir
        urls = [u.strip().rstrip("/") for u in settings.rasa_model_urls.split(",") if u.strip()]
        return cls(
            project=project,
            mode=settings.editor_mode,
            bot_python=Path(settings.editor_bot_python) if settings.editor_bot_python else None,
            models_dir=Path(models).resolve() if models else (project / "models" / "editor" if project else None),
            live_model=Path(settings.editor_live_model).resolve() if settings.editor_live_model else None,
            rasa_urls=tuple(urls or ([settings.rasa_url] if settings.rasa_url else [])),
            jwt_secret=settings.rasa_jwt_secret,
            margin=settings.editor_margin,
        )

    @property
    def writes(self) -> bool:
        return self.project is not None

    @property
    def trains(self) -> bool:
        """Trainings read the project's files: only where decisions are
        written there (not as a branch or a patch)."""
        return (
            self.project is not None
            and self.mode == "files"
            and self.bot_python is not None
            and self.models_dir is not None
        )

    @property
    def publishes(self) -> bool:
        return bool(self.rasa_urls) and bool(self.jwt_secret)

    @property
    def rasa(self) -> str | None:
        return str(self.bot_python.parent / "rasa") if self.bot_python else None

    def needs_project(self) -> Path:
        if self.project is None:
            raise NotSetUp(
                "changing training data is not set up here: set HANDOFF_EDITOR_PROJECT to the project's folder",
                code="not_set_up",
            )
        return self.project


# -- the inbox's decisions --------------------------------------------------


_LOCAL_LOCKS: dict[str, asyncio.Lock] = {}
# pg_advisory_xact_lock keys of the editors' serialised work
_ADVISORY = {"data": 0x5ED17_0001, "models": 0x5ED17_0002}


@asynccontextmanager
async def _one_at_a_time(session: AsyncSession, what: str) -> AsyncIterator[None]:
    """One change of the project's files (``data``) or of the live model and
    the trainings (``models``) at a time: in this process, and on PostgreSQL
    across replicas (held to the end of the transaction). SQLite runs one
    service process."""
    lock = _LOCAL_LOCKS.setdefault(what, asyncio.Lock())
    async with lock:
        if session.bind.dialect.name == "postgresql":
            await session.execute(select(func.pg_advisory_xact_lock(_ADVISORY[what])))
        yield


def _label(row: ConversationEvent) -> str | None:
    return row.faq or row.intent


def _reason(row: ConversationEvent) -> str:
    """What the stored line itself says of why it was in the inbox."""
    if row.intent == "nlu_fallback":
        return "fallback"
    if row.intent == "out_of_scope":
        return "out_of_scope"
    return "review"


async def _languages(session: AsyncSession, conversation_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(ConversationLanguage.conversation_id, ConversationLanguage.language).where(
            ConversationLanguage.conversation_id.in_(ids)
        )
    )
    return {cid: lang for cid, lang in rows.tuples()}


def _language_of(row: ConversationEvent, known: dict[str, str], chosen: str | None) -> str:
    if chosen:
        return chosen
    return known.get(row.conversation_id) or detect_language(row.text) or "tr"


async def decide(
    *,
    session: AsyncSession,
    setup: EditorSetup,
    editor: Agent,
    keys: Sequence[str],
    decision: str,
    target: str | None,
    new_faq: dict[str, str] | None,
    language: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record an editor's decision on customer lines (by event key) and,
    for an intent or an FAQ, change the training data. Lines decided
    before are left out; nothing is written when the change has an error."""
    now = now or utcnow()
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise BadRequest(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    wanted = list(dict.fromkeys(keys))
    rows = list(
        (
            await session.execute(
                select(ConversationEvent)
                .where(ConversationEvent.event_key.in_(wanted), ConversationEvent.kind == "customer")
                .order_by(ConversationEvent.timestamp)
            )
        ).scalars()
    )
    if len(rows) != len(wanted):
        raise BadRequest(f"{len(wanted) - len(rows)} of these messages are not in the transcripts (any more)")
    async with _one_at_a_time(session, "data"):
        return await _decide_rows(session, setup, editor, rows, wanted, decision, target, new_faq, language, now)


async def _decide_rows(
    session: AsyncSession,
    setup: EditorSetup,
    editor: Agent,
    rows: list[ConversationEvent],
    wanted: list[str],
    decision: str,
    target: str | None,
    new_faq: dict[str, str] | None,
    language: str | None,
    now: datetime,
) -> dict[str, Any]:
    decided = set(
        (await session.execute(select(ReviewDecision.event_key).where(ReviewDecision.event_key.in_(wanted)))).scalars()
    )
    rows = [r for r in rows if r.event_key not in decided]
    if not rows:
        return {"decided": 0, "change": None}
    known = await _languages(session, (r.conversation_id for r in rows))
    languages = {r.event_key: _language_of(r, known, language) for r in rows}
    change: dict[str, Any] | None = None
    recorded_target = target
    if decision in _WRITES:
        change, recorded_target = await _change_data(setup, editor, rows, languages, decision, target, new_faq)
        if not change["written"]:
            return {"decided": 0, "change": change}
    for row in rows:
        # two editors deciding the same line at once: the first decision stays
        await session.execute(
            insert_for(session)(ReviewDecision)
            .values(
                event_key=row.event_key,
                conversation_id=row.conversation_id,
                text=row.text,
                language=languages[row.event_key],
                reason=_reason(row),
                decision=decision,
                target=_label(row) if decision == "right" else recorded_target,
                editor=editor.username,
                decided_at=now,
            )
            .on_conflict_do_nothing(index_elements=["event_key"])
        )
    await add_audit(
        session=session,
        actor=editor.username,
        agent_id=editor.id,
        action="editor.decide",
        at=now,
        detail={
            "decision": decision,
            "target": recorded_target,
            "lines": len(rows),
            "files": (change or {}).get("files", []),
            "mode": (change or {}).get("mode"),
        },
    )
    await session.flush()
    return {"decided": len(rows), "change": change}


async def _change_data(
    setup: EditorSetup,
    editor: Agent,
    rows: list[ConversationEvent],
    languages: dict[str, str],
    decision: str,
    target: str | None,
    new_faq: dict[str, str] | None,
) -> tuple[dict[str, Any], str]:
    root = setup.needs_project()
    examples = [(languages[r.event_key], r.text) for r in rows]
    if decision == "new_faq":
        if not new_faq:
            raise BadRequest("a new FAQ needs its id and its answers in Turkish and English")
        wanted = project_files.Decision(
            kind="new_faq",
            target=new_faq.get("id", ""),
            examples=examples,
            answer_tr=new_faq.get("answer_tr", ""),
            answer_en=new_faq.get("answer_en", ""),
            topic=new_faq.get("topic") or None,
        )
    else:
        if not target:
            raise BadRequest(f"choose the {'intent' if decision == 'intent' else 'FAQ'} these messages belong to")
        kind: project_files.DecisionKind = "intent" if decision == "intent" else "faq"
        wanted = project_files.Decision(kind=kind, target=target, examples=examples)
    files = project_files.ProjectFiles(root)
    try:
        plan = await asyncio.to_thread(files.plan, wanted)
    except project_files.PlanError as exc:
        raise BadRequest(str(exc), code="invalid_change") from exc
    recorded = f"faq/{wanted.target}" if decision in ("faq", "new_faq") else wanted.target
    answer: dict[str, Any] = {
        "mode": setup.mode,
        "files": [c.path for c in plan.changes],
        "added": [{"text": text, "language": lang, "target": recorded} for lang, text in plan.added],
        "skipped": [{"text": s.text, "reason": s.reason, "code": s.code} for s in plan.skipped],
        "problems": [],
        "branch": None,
        "commit": None,
        "patch": None,
        "written": False,
    }
    if not plan.changes:
        answer["problems"] = [
            {"level": "error", "message": "nothing to add: every message was skipped (see why)", "file": None}
        ]
        return answer, recorded
    problems = await _check_in_copy(root, wanted, setup)
    answer["problems"] = [{"level": p.level, "message": p.message, "file": p.file} for p in problems]
    if any(p.level == "error" for p in problems):
        return answer, recorded
    if setup.mode == "files":
        try:
            await asyncio.to_thread(project_files.apply, plan)
        except project_files.PlanError as exc:  # a file changed since the plan (another editor)
            raise Conflict(f"{exc} Load the inbox again and decide once more.", code="changed_meanwhile") from exc
    elif setup.mode == "branch":
        branch = branch_name(editor.username)
        answer["branch"] = branch
        try:
            answer["commit"] = await asyncio.to_thread(
                commit_to_branch,
                root,
                plan,
                branch=branch,
                author_name=editor.display_name or editor.username,
                author_email=f"{branch[len('editor/') :]}@editors.invalid",
                message=f"Editor {editor.username}: {decision} {recorded} ({len(plan.added)} example(s))",
            )
        except BranchError as exc:
            raise Conflict(str(exc), code="branch_conflict") from exc
    else:
        answer["patch"] = unified_patch(plan)
    answer["written"] = True
    return answer, recorded


async def _check_in_copy(root: Path, wanted: project_files.Decision, setup: EditorSetup) -> list[Problem]:
    """Validate the project as the change would leave it, in a copy."""
    with tempfile.TemporaryDirectory(prefix="editor-check-") as tmp:
        copy = Path(tmp)
        await asyncio.to_thread(_copy_project, root, copy)
        plan = await asyncio.to_thread(project_files.ProjectFiles(copy).plan, wanted)
        await asyncio.to_thread(project_files.apply, plan)
        if setup.rasa is None:  # no bot environment here (docker-compose's handoff image)
            return [
                *content_problems(copy),
                Problem("warning", "Rasa's own check did not run here (no bot environment): run make validate."),
            ]
        return list(await validate(copy, rasa=setup.rasa))


def _copy_project(root: Path, copy: Path) -> None:
    for part in _PROJECT_PARTS:
        source = root / part
        if source.is_dir():
            shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            (copy / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / part)


async def targets(setup: EditorSetup) -> dict[str, Any]:
    """What a decision may name: intents, FAQs with their answers, topics."""
    answer: dict[str, Any] = {
        "intents": [],
        "faqs": [],
        "topics": [],
        "mode": setup.mode,
        "writes": setup.writes,
        "trains": setup.trains,
    }
    if setup.project is None:
        return answer
    try:
        return await asyncio.to_thread(_read_targets, project_files.ProjectFiles(setup.project), answer)
    except (project_files.PlanError, AttributeError, TypeError, KeyError) as exc:
        raise Conflict(f"the training data cannot be read: {exc}", code="data_unreadable") from exc


def _read_targets(files: project_files.ProjectFiles, answer: dict[str, Any]) -> dict[str, Any]:
    answer["intents"] = sorted(files.intents())
    faqs = files.faqs()
    answer["faqs"] = [
        {"id": fid, "answer": {"tr": a.get("tr", ""), "en": a.get("en", "")}} for fid, a in sorted(faqs.items())
    ]
    catalogue = files.load("data/catalogue.yml")
    answer["topics"] = [
        {"id": str(t["id"]), "name": {lang: str((t.get("name") or {}).get(lang, t["id"])) for lang in ("tr", "en")}}
        for t in (catalogue or {}).get("topics") or []
        if isinstance(t, dict) and t.get("id")
    ]
    return answer


# -- models: training, scores, publishing -----------------------------------


def _refusal(model: ModelVersion, live: ModelVersion | None, margin: float) -> list[str]:
    scores = model.scores or {}
    if model.status != "ready":
        return []
    live_id = scores.get("live_model_id")
    if live is not None and live_id != live.id:
        return ["another model went live after this one was trained: train again to compare with it"]
    if live is not None and not scores.get("live"):
        return ["the live model could not be scored (its file is missing?): nothing to compare with"]
    return training.worse_than(scores.get("candidate") or {}, scores.get("live") or {}, margin)


def _refusal_codes(model: ModelVersion, live: ModelVersion | None, margin: float) -> list[dict[str, Any]]:
    """The refusal as figures, for a page to say in its language."""
    scores = model.scores or {}
    if model.status != "ready":
        return []
    if live is not None and scores.get("live_model_id") != live.id:
        return [{"code": "live_changed"}]
    if live is not None and not scores.get("live"):
        return [{"code": "live_unscored"}]
    candidate, live_scores = scores.get("candidate") or {}, scores.get("live") or {}
    codes: list[dict[str, Any]] = []
    for name, old in live_scores.items():
        new = candidate.get(name)
        if new is None:
            codes.append({"code": "no_score", "set": name})
        elif float(old["f1"]) - float(new["f1"]) > margin + 1e-9:
            codes.append({"code": "worse", "set": name, "candidate": new["f1"], "live": old["f1"], "margin": margin})
    return codes


def model_json(model: ModelVersion, *, live: ModelVersion | None, margin: float) -> dict[str, Any]:
    scores = model.scores or {}
    refusal = _refusal(model, live, margin)
    return {
        "id": model.id,
        "status": model.status,
        "stage": model.stage,
        "progress": round(model.progress or 0.0, 3),
        "started_by": model.started_by,
        "started_at": model.started_at.isoformat(),
        "finished_at": model.finished_at.isoformat() if model.finished_at else None,
        "scores": {"candidate": scores.get("candidate"), "live": scores.get("live")},
        "understood": model.understood or {"candidate": [], "live": []},
        "refusal": refusal,
        "refusal_codes": _refusal_codes(model, live, margin),
        "publishable": model.status == "ready" and not refusal,
        "error": model.error,
        "published_at": model.published_at.isoformat() if model.published_at else None,
        "published_by": model.published_by,
    }


async def _live(session: AsyncSession, setup: EditorSetup) -> ModelVersion | None:
    live = (
        (
            await session.execute(
                select(ModelVersion).where(ModelVersion.status == "live").order_by(ModelVersion.id.desc())
            )
        )
        .scalars()
        .first()
    )
    if live is None and setup.live_model is not None and setup.live_model.is_file():
        # the model Rasa started with: the first live one
        live = ModelVersion(
            path=str(setup.live_model),
            status="live",
            progress=1.0,
            stage="done",
            started_by="deployment",
            started_at=utcnow(),
            finished_at=utcnow(),
        )
        session.add(live)
        await session.flush()
    return live


async def _end_stale_trainings(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        update(ModelVersion)
        .where(ModelVersion.status == "training", ModelVersion.started_at < now - TRAINING_STALE_AFTER)
        .values(status="failed", error="the training stopped: the service restarted while it ran", finished_at=now)
    )


async def list_models(*, session: AsyncSession, setup: EditorSetup, limit: int = 20) -> dict[str, Any]:
    await _end_stale_trainings(session, utcnow())
    live = await _live(session, setup)
    models = list((await session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit))).scalars())
    training_row = next((m for m in models if m.status == "training"), None)
    return {
        "live": model_json(live, live=live, margin=setup.margin) if live else None,
        "training": model_json(training_row, live=live, margin=setup.margin) if training_row else None,
        "models": [model_json(m, live=live, margin=setup.margin) for m in models],
        "trains": setup.trains,
        "publishes": setup.publishes,
    }


async def _reviewed(session: AsyncSession) -> list[dict[str, str]]:
    rows = await session.execute(
        select(ReviewDecision.event_key, ReviewDecision.text, ReviewDecision.target)
        .where(ReviewDecision.decision.in_(("intent", "faq", "new_faq", "right")), ReviewDecision.target.is_not(None))
        .order_by(ReviewDecision.id.desc())
        .limit(500)
    )
    return [{"key": key, "text": text, "expected": target or ""} for key, text, target in rows.tuples()]


async def start_training(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    setup: EditorSetup,
    editor: Agent,
    spawn: Callable[[Coroutine[Any, Any, None]], Any],
) -> dict[str, Any]:
    """Start a training in the background (``spawn`` runs the coroutine);
    one at a time."""
    if not setup.trains:
        raise NotSetUp(
            "training is not set up here: set HANDOFF_EDITOR_PROJECT and HANDOFF_EDITOR_BOT_PYTHON",
            code="not_set_up",
        )
    assert setup.models_dir is not None and setup.project is not None
    now = utcnow()
    async with sessionmaker() as session, session.begin(), _one_at_a_time(session, "models"):
        await _end_stale_trainings(session, now)
        running = (
            await session.execute(select(ModelVersion.id).where(ModelVersion.status == "training").limit(1))
        ).scalar()
        if running is not None:
            raise Conflict("a model is being trained already: wait for it to finish", code="training_running")
        live = await _live(session, setup)
        reviewed = await _reviewed(session)
        model = ModelVersion(
            path="", status="training", progress=0.0, stage="starting", started_by=editor.username, started_at=now
        )
        session.add(model)
        await session.flush()
        stamp = now.strftime("%Y%m%d-%H%M%S")
        model.path = str(setup.models_dir / f"editor-{model.id}-{stamp}.tar.gz")
        await add_audit(
            session=session,
            actor=editor.username,
            agent_id=editor.id,
            action="editor.train",
            at=now,
            detail={"model": model.id, "reviewed": len(reviewed)},
        )
        answer = model_json(model, live=live, margin=setup.margin)
        job = _Job(
            model_id=model.id,
            path=Path(model.path),
            live_id=live.id if live else None,
            live_path=live.path if live else None,
        )
    spawn(_train(sessionmaker, setup, job, reviewed))
    return answer


@dataclass(frozen=True)
class _Job:
    model_id: int
    path: Path
    live_id: int | None
    live_path: str | None


async def _train(
    sessionmaker: async_sessionmaker[AsyncSession], setup: EditorSetup, job: _Job, reviewed: list[dict[str, str]]
) -> None:
    assert setup.bot_python is not None and setup.project is not None
    last_write = 0.0
    loop = asyncio.get_running_loop()

    async def progress(stage: str, share: float) -> None:
        nonlocal last_write
        if loop.time() - last_write < 0.5:
            return
        last_write = loop.time()
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(ModelVersion)
                .where(ModelVersion.id == job.model_id, ModelVersion.status == "training")
                .values(stage=stage, progress=max(0.0, min(1.0, share)))
            )

    messages = [training.ReviewedMessage(key=m["key"], text=m["text"], expected=m["expected"]) for m in reviewed]
    result: training.TrainResult | None = None
    error: str | None
    try:
        job.path.parent.mkdir(parents=True, exist_ok=True)
        result = await training.run_training(
            bot_python=str(setup.bot_python),
            project=setup.project,
            out=job.path,
            live=Path(job.live_path) if job.live_path and Path(job.live_path).is_file() else None,
            reviewed=messages,
            on_progress=progress,
            timeout=setup.timeout_seconds,
        )
    except Exception as exc:
        log.exception("training %s failed", job.model_id)
        error = f"the training could not run: {exc}"
    else:
        error = result.error
    by_key = {item["key"]: item for item in reviewed}
    async with sessionmaker() as session, session.begin():
        model = await session.get(ModelVersion, job.model_id)
        if model is None or model.status != "training":  # marked failed as stale meanwhile
            return
        model.finished_at = utcnow()
        if error or result is None:
            model.status, model.stage, model.error = "failed", "failed", error or "the training failed"
            return
        model.status, model.stage, model.progress = "ready", "done", 1.0
        model.scores = {
            "candidate": result.scores.get("candidate") or {},
            "live": result.scores.get("live"),
            "live_model_id": job.live_id,
        }
        model.understood = {
            side: [by_key[k] for k in result.understood.get(side, []) if k in by_key] for side in ("candidate", "live")
        }


def _replica_json(result: training.ReplicaResult, note: str | None = None) -> dict[str, Any]:
    detail = result.error or f"{result.status} in {result.seconds:.1f} s"
    return {
        "url": result.url,
        "ok": result.status == "published",
        "detail": f"{note}: {detail}" if note else detail,
    }


async def publish_model(
    *,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    setup: EditorSetup,
    editor: Agent,
    model_id: int,
    restore: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Load a ready model (or, ``restore``, one that was live before) into
    every Rasa server in turn, one publish at a time; on a failure the
    servers already updated, and the one that failed, get the live model
    back. A failure is audited in a transaction of its own."""
    now = now or utcnow()
    if not setup.publishes:
        raise NotSetUp("publishing is not set up here: Rasa's address (RASA_URL) and RASA_JWT_SECRET are missing")
    async with _one_at_a_time(session, "models"):
        return await _publish(session, sessionmaker, setup, editor, model_id, restore, now)


async def _publish(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    setup: EditorSetup,
    editor: Agent,
    model_id: int,
    restore: bool,
    now: datetime,
) -> dict[str, Any]:
    model = await session.get(ModelVersion, model_id)
    if model is None:
        raise NotFound("no such model")
    live = await _live(session, setup)
    if restore:
        if model.status != "retired":
            raise Conflict("only a model that was live before can be restored", code="not_restorable")
    else:
        if model.status != "ready":
            raise Conflict(f"this model cannot be published: it is {model.status}", code="not_ready")
        refusal = _refusal(model, live, setup.margin)
        if refusal:
            raise Conflict("this model scores worse than the live one: " + "; ".join(refusal), code="worse_model")
    if not Path(model.path).is_file():
        raise Conflict("the model's file is gone: train again", code="model_missing")
    replicas = await training.publish(
        Path(model.path), rasa_urls=list(setup.rasa_urls), jwt_secret=setup.jwt_secret, timeout=PUBLISH_TIMEOUT
    )
    answer_replicas = [_replica_json(r) for r in replicas]
    failed = [r for r in replicas if r.status == "failed"]
    if failed:
        # the failed one too: its load may have gone through after all
        done = [r.url for r in replicas if r.status == "published"] + [failed[0].url]
        if live is not None and Path(live.path).is_file():
            back = await training.publish(
                Path(live.path), rasa_urls=done, jwt_secret=setup.jwt_secret, timeout=PUBLISH_TIMEOUT
            )
            answer_replicas += [_replica_json(r, note="back to the live model") for r in back]
        async with sessionmaker() as own, own.begin():  # kept although this request fails
            await add_audit(
                session=own,
                actor=editor.username,
                agent_id=editor.id,
                action="editor.publish_failed",
                at=now,
                detail={"model": model.id, "replica": failed[0].url, "replicas": answer_replicas},
            )
        raise Unavailable(failed[0].error or f"Rasa at {failed[0].url} did not take the model", code="publish_failed")
    await session.execute(
        update(ModelVersion).where(ModelVersion.status == "live", ModelVersion.id != model.id).values(status="retired")
    )
    model.status, model.published_at, model.published_by = "live", now, editor.username
    await add_audit(
        session=session,
        actor=editor.username,
        agent_id=editor.id,
        action="editor.restore" if restore else "editor.publish",
        at=now,
        detail={"model": model.id, "replaced": live.id if live else None, "replicas": len(replicas)},
    )
    await session.flush()
    return {"model": model_json(model, live=model, margin=setup.margin), "replicas": answer_replicas}
