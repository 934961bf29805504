"""The handoff app as the editors' tests run it: writing into a copy of the
project (stack.editor.project_copy), checked by the bot environment's Rasa,
with an editor account besides the seeded agents and supervisor."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.repo.agents import insert_agent
from handoff.services.channel import RecordingChannel
from handoff.settings import REPO_ROOT
from tests.handoff.conftest import Running, StartApp
from tests.handoff.helpers import make_settings

# the bot's environment: Rasa checks a change before it is written
BOT_PYTHON = REPO_ROOT / ".venv" / "bot" / "bin" / "python"


async def start_editor_app(
    *,
    db_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    password_hash: str,
    project: Path,
    start_app: StartApp,
    mode: str = "files",
) -> Running:
    assert BOT_PYTHON.exists(), "the bot's environment is missing: make test builds it (make bot-setup)"
    async with sessionmaker() as session, session.begin():
        await insert_agent(
            session=session,
            username="ed",
            password_hash=password_hash,
            display_name="Elif Editör",
            role="editor",
            departments=[],
        )
    channel = RecordingChannel()
    app = create_app(
        make_settings(db_url, editor_project=str(project), editor_mode=mode, editor_bot_python=str(BOT_PYTHON)),
        channel=channel,
        name=f"handoff_{uuid.uuid4().hex[:8]}",
    )
    return Running(app, (await start_app(app)).base_url, channel)
