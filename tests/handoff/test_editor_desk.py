"""handoff/editor/desk.py without a Rasa server: what may be published, who
may train where, and what is kept when a publish fails or a training
double-starts."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.editor import desk
from handoff.errors import Conflict, Unavailable
from handoff.models import AuditEntry, ModelVersion, utcnow
from handoff.repo.conversations import purge_conversations_before
from stack.editor import project_copy
from tests.handoff.conftest import Seed
from tests.handoff.helpers import make_settings

SCORES = {"tr": {"f1": 0.94}, "en": {"f1": 0.92}, "blind_tr": {"f1": 0.87}, "blind_en": {"f1": 0.88}}


def _setup(tmp_path: Path, **changes: object) -> desk.EditorSetup:
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db",
        editor_project=str(tmp_path),
        editor_bot_python=str(tmp_path / "python"),
        rasa_url="http://127.0.0.1:9",
        rasa_jwt_secret="jwt-secret",
    )
    return replace(desk.EditorSetup.from_settings(settings), **changes)  # type: ignore[arg-type]


def _model(id_: int, status: str, scores: dict | None = None) -> ModelVersion:
    return ModelVersion(
        id=id_,
        path=f"/m/{id_}.tar.gz",
        status=status,
        progress=1.0,
        started_by="ed",
        started_at=utcnow(),
        scores=scores,
    )


def test_what_may_be_published() -> None:
    live = _model(1, "live")
    same = _model(2, "ready", {"candidate": SCORES, "live": SCORES, "live_model_id": 1})
    assert desk.model_json(same, live=live, margin=0.02)["publishable"]
    worse_en = {**SCORES, "en": {"f1": 0.85}}
    worse = _model(3, "ready", {"candidate": worse_en, "live": SCORES, "live_model_id": 1})
    answer = desk.model_json(worse, live=live, margin=0.02)
    assert not answer["publishable"] and answer["refusal_codes"] == [
        {"code": "worse", "set": "en", "candidate": 0.85, "live": 0.92, "margin": 0.02}
    ]
    stale = _model(4, "ready", {"candidate": SCORES, "live": SCORES, "live_model_id": 9})
    assert desk.model_json(stale, live=live, margin=0.02)["refusal_codes"] == [{"code": "live_changed"}]
    # a live model that could not be scored (its file gone) is no licence to publish
    unscored = _model(5, "ready", {"candidate": SCORES, "live": None, "live_model_id": 1})
    answer = desk.model_json(unscored, live=live, margin=0.02)
    assert not answer["publishable"] and answer["refusal_codes"] == [{"code": "live_unscored"}]
    # nothing live yet: nothing to compare with, the first model may go live
    first = _model(6, "ready", {"candidate": SCORES, "live": None, "live_model_id": None})
    assert desk.model_json(first, live=None, margin=0.02)["publishable"]


def test_trainings_read_the_files_only_where_decisions_are_written_there(tmp_path: Path) -> None:
    assert _setup(tmp_path).trains
    assert not _setup(tmp_path, mode="branch").trains and not _setup(tmp_path, mode="patch").trains
    assert _setup(tmp_path, mode="patch").writes


async def test_unreadable_training_data_is_said_not_a_crash(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    (project / "data" / "faq" / "responses.yml").write_text("responses: [unclosed\n", encoding="utf-8")
    with pytest.raises(Conflict) as refused:
        await desk.targets(_setup(tmp_path, project=project))
    assert refused.value.code == "data_unreadable" and "responses.yml" in refused.value.message


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
async def test_a_second_training_is_refused_even_with_two_rows_left_training(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    async with sessionmaker() as session, session.begin():
        for _ in range(2):
            session.add(ModelVersion(path="", status="training", progress=0.1, started_by="ed", started_at=utcnow()))
    spawned: list[object] = []
    with pytest.raises(Conflict) as refused:
        await desk.start_training(
            sessionmaker=sessionmaker, setup=_setup(tmp_path), editor=seed.agents["boss"], spawn=spawned.append
        )
    assert refused.value.code == "training_running" and spawned == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_failed_publish_is_audited_and_changes_nothing(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession], seed: Seed
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    archive = tmp_path / "candidate.tar.gz"
    archive.write_bytes(b"not really a model")
    async with sessionmaker() as session, session.begin():
        live = ModelVersion(path=str(archive), status="live", progress=1.0, started_by="deployment")
        session.add(live)
        await session.flush()
        ready = ModelVersion(
            path=str(archive),
            status="ready",
            progress=1.0,
            started_by="ed",
            scores={"candidate": SCORES, "live": SCORES, "live_model_id": live.id},
        )
        session.add(ready)
    setup = _setup(tmp_path, rasa_urls=(dead,))
    with pytest.raises(Unavailable) as failed:
        async with sessionmaker() as session, session.begin():
            await desk.publish_model(
                session=session,
                sessionmaker=sessionmaker,
                setup=setup,
                editor=seed.agents["boss"],
                model_id=ready.id,
                restore=False,
            )
    assert failed.value.code == "publish_failed" and dead in failed.value.message
    async with sessionmaker() as session:
        statuses = {m.id: m.status for m in (await session.execute(select(ModelVersion))).scalars()}
        audit = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "editor.publish_failed"))
        ).scalars()
        entry = audit.one()
    assert statuses == {live.id: "live", ready.id: "ready"}
    assert entry.actor == "boss" and entry.detail["replica"] == dead


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_retention_forgets_the_reviewed_lines_a_model_kept(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        old = ModelVersion(
            path="/m/old.tar.gz",
            status="retired",
            progress=1.0,
            started_by="ed",
            started_at=now - timedelta(days=400),
            understood={"candidate": [{"key": "k", "text": "kartım 4111 **** ****", "expected": "faq/x"}], "live": []},
        )
        new = ModelVersion(
            path="/m/new.tar.gz",
            status="live",
            progress=1.0,
            started_by="ed",
            started_at=now,
            understood={"candidate": [{"key": "k2", "text": "bonusum", "expected": "faq/y"}], "live": []},
        )
        session.add_all([old, new])
    async with sessionmaker() as session, session.begin():
        await purge_conversations_before(session=session, cutoff=now - timedelta(days=365))
    async with sessionmaker() as session:
        kept = {m.path: m.understood for m in (await session.execute(select(ModelVersion))).scalars()}
    assert kept["/m/old.tar.gz"] in (None, {})
    assert kept["/m/new.tar.gz"]["candidate"][0]["text"] == "bonusum"
