"""Where the running product cannot write data/: an editor's decision comes
as a patch to download (HANDOFF_EDITOR_MODE=patch) or as a commit on the
editor's branch (branch), the project's files and its current branch left
alone; in place (files) a new FAQ needs both answers, and a change that
cannot be made says why and writes nothing."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import ConversationEvent
from stack.editor import project_copy
from tests.handoff.conftest import Seed, StartApp
from tests.handoff.editor_helpers import start_editor_app
from tests.handoff.helpers import login

LINE = "çekiliş sonuçları nerede duyuruluyor"
FAQ_TR = "data/faq/nlu_tr.yml"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


async def _line(sessionmaker: async_sessionmaker[AsyncSession], key: str) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(
            ConversationEvent(
                conversation_id=f"conv-{key[:6]}",
                event_key=key,
                kind="customer",
                text=LINE,
                intent="nlu_fallback",
                confidence=0.3,
                timestamp=datetime(2026, 12, 2, 9, tzinfo=timezone.utc),
            )
        )


async def _base_url(
    mode: str,
    project: Path,
    db_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    start_app: StartApp,
) -> str:
    server = await start_editor_app(
        db_url=db_url,
        sessionmaker=sessionmaker,
        password_hash=password_hash,
        project=project,
        start_app=start_app,
        mode=mode,
    )
    return server.base_url


async def test_patch_mode_hands_back_a_patch_that_applies_and_writes_nothing(
    tmp_path: Path,
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    start_app: StartApp,
) -> None:
    project = project_copy(tmp_path)
    before = (project / FAQ_TR).read_text(encoding="utf-8")
    await _line(sessionmaker, "p" * 64)
    base_url = await _base_url("patch", project, db_url, sessionmaker, password_hash, start_app)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        headers = await login(client, "ed")
        answer = await client.post(
            "/api/v1/editor/decisions",
            json={"keys": ["p" * 64], "decision": "faq", "target": "promotion_terms"},
            headers=headers,
        )
    assert answer.status_code == 200, answer.text
    change = answer.json()["change"]
    assert change["written"] and change["mode"] == "patch" and change["files"] == [FAQ_TR]
    assert (project / FAQ_TR).read_text(encoding="utf-8") == before  # nothing written in place
    assert f"+    - {LINE}" in change["patch"]
    (tmp_path / "editor.patch").write_text(change["patch"], encoding="utf-8")
    subprocess.run(["git", "apply", str(tmp_path / "editor.patch")], cwd=project, check=True)
    block = next(
        item
        for item in yaml.safe_load((project / FAQ_TR).read_text(encoding="utf-8"))["nlu"]
        if item["intent"] == "faq/promotion_terms"
    )
    assert f"- {LINE}\n" in block["examples"]


async def test_branch_mode_commits_on_the_editors_branch_and_leaves_the_checkout_alone(
    tmp_path: Path,
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    start_app: StartApp,
) -> None:
    project = project_copy(tmp_path)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", ".")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "start")
    await _line(sessionmaker, "b" * 64)
    base_url = await _base_url("branch", project, db_url, sessionmaker, password_hash, start_app)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        headers = await login(client, "ed")
        answer = await client.post(
            "/api/v1/editor/decisions",
            json={"keys": ["b" * 64], "decision": "faq", "target": "promotion_terms"},
            headers=headers,
        )
    assert answer.status_code == 200, answer.text
    change = answer.json()["change"]
    assert change["branch"] == "editor/ed" and change["written"]
    assert _git(project, "rev-parse", "editor/ed").strip() == change["commit"]
    assert f"- {LINE}" in _git(project, "show", f"editor/ed:{FAQ_TR}")
    assert "Elif" in _git(project, "log", "-1", "--format=%an", "editor/ed")
    assert _git(project, "status", "--porcelain") == ""  # the working tree is untouched
    assert _git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


async def test_a_change_that_cannot_be_made_says_why_and_writes_nothing(
    tmp_path: Path,
    db_url: str,
    seed: Seed,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    start_app: StartApp,
) -> None:
    project = project_copy(tmp_path)
    before = {path: path.read_text(encoding="utf-8") for path in sorted((project / "data").rglob("*.yml"))}
    await _line(sessionmaker, "n" * 64)
    base_url = await _base_url("files", project, db_url, sessionmaker, password_hash, start_app)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        headers = await login(client, "ed")
        unknown = await client.post(
            "/api/v1/editor/decisions",
            json={"keys": ["n" * 64], "decision": "faq", "target": "no_such_faq"},
            headers=headers,
        )
        existing = await client.post(
            "/api/v1/editor/decisions",
            json={
                "keys": ["n" * 64],
                "decision": "new_faq",
                "new_faq": {"id": "promotion_terms", "answer_tr": "Kampanya", "answer_en": "Campaign"},
            },
            headers=headers,
        )
        one_answer = await client.post(
            "/api/v1/editor/decisions",
            json={"keys": ["n" * 64], "decision": "new_faq", "new_faq": {"id": "prize_draw", "answer_tr": "Çekiliş"}},
            headers=headers,
        )
        made = await client.post(
            "/api/v1/editor/decisions",
            json={
                "keys": ["n" * 64],
                "decision": "new_faq",
                "new_faq": {
                    "id": "prize_draw",
                    "answer_tr": "Çekiliş sonuçları Kampanyalar sayfasında duyurulur.",
                    "answer_en": "Prize draw results are announced on the Promotions page.",
                },
            },
            headers=headers,
        )
    for refused in (unknown, existing, one_answer):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["message"]
    assert "no_such_faq" in unknown.json()["error"]["message"]
    assert made.status_code == 200, made.text
    change = made.json()["change"]
    assert change["written"] and made.json()["decided"] == 1
    assert sorted(change["files"]) == ["data/faq/nlu_tr.yml", "data/faq/responses.yml"]
    # a warning, not an error: the new FAQ has no English examples yet
    assert [p["level"] for p in change["problems"]] == ["warning"]
    assert "English" in change["problems"][0]["message"]
    after = {path: path.read_text(encoding="utf-8") for path in sorted((project / "data").rglob("*.yml"))}
    assert {str(p.relative_to(project)) for p in after if after[p] != before.get(p)} == set(change["files"])
    responses = yaml.safe_load((project / "data/faq/responses.yml").read_text(encoding="utf-8"))["responses"]
    assert [v.get("text") for v in responses["utter_faq/prize_draw"]] == [
        "Çekiliş sonuçları Kampanyalar sayfasında duyurulur.",
        "Prize draw results are announced on the Promotions page.",
    ]
