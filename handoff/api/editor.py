"""The editors' API: the review inbox, decisions, trainings, publishing.

Editors, supervisors and admins only (agents get 403); every write goes
to the audit log under the editor's username (handoff.editor.desk).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse

from handoff.api.common import body, query, require_editor, transaction
from handoff.api.editor_bodies import (
    DecisionAnswer,
    DecisionBody,
    Inbox,
    InboxQuery,
    ModelAnswer,
    ModelList,
    Published,
    Targets,
)
from handoff.api.spec import operation
from handoff.editor import desk
from handoff.editor.review import inbox as review_inbox
from handoff.errors import NotFound
from handoff.models import MAX_ROW_ID

bp = Blueprint("editor", url_prefix="/api/v1/editor")

_NO_STORE = {"Cache-Control": "no-store"}


def _setup(request: Request) -> desk.EditorSetup:
    setup = getattr(request.app.ctx, "editor_setup", None)
    if setup is None:
        setup = desk.EditorSetup.from_settings(request.app.ctx.settings)
        request.app.ctx.editor_setup = setup
    return setup


def _model_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ROW_ID:
        raise NotFound("no such model")
    return int(raw)


@bp.get("/inbox")
@operation(
    "Customer messages the bot handled badly, grouped by meaning, biggest groups first",
    auth="editor",
    query=InboxQuery,
    answers={200: Inbox},
    errors=(400,),
)
async def inbox(request: Request) -> HTTPResponse:
    args = query(request, InboxQuery)
    async with transaction(request) as session:
        await require_editor(request, session)
        answer = await review_inbox(
            session=session,
            threshold=request.app.ctx.settings.review_confidence,
            language=args.language,
            reason=args.reason,
        )
    return json(answer, headers=_NO_STORE)


@bp.get("/targets")
@operation("What a decision may name: intents, FAQs with their answers, topics", auth="editor", answers={200: Targets})
async def targets(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        await require_editor(request, session)
    return json(await desk.targets(_setup(request)), headers=_NO_STORE)


@bp.post("/decisions")
@operation(
    "Decide about inbox messages: an intent, an FAQ, a new FAQ (written into data/), the bot was right, or noise",
    auth="editor",
    body=DecisionBody,
    answers={200: DecisionAnswer},
    errors=(409,),
)
async def decisions(request: Request) -> HTTPResponse:
    data = body(request, DecisionBody, max_bytes=256 * 1024)
    async with transaction(request) as session:
        editor = await require_editor(request, session)
        answer = await desk.decide(
            session=session,
            setup=_setup(request),
            editor=editor,
            keys=data.keys,
            decision=data.decision,
            target=data.target,
            new_faq=data.new_faq.model_dump() if data.new_faq else None,
            language=data.language,
        )
    return json(answer, headers=_NO_STORE)


@bp.post("/train")
@operation(
    "Train a new model from the project's data in the background; its scores come beside the live model's",
    auth="editor",
    answers={202: ModelAnswer},
    errors=(409,),
)
async def train(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        editor = await require_editor(request, session)

    tasks: set[asyncio.Task[None]] = request.app.ctx.__dict__.setdefault("editor_trainings", set())

    def spawn(job: Coroutine[Any, Any, None]) -> None:
        # kept until done: the loop holds only a weak reference to a task
        task = asyncio.get_running_loop().create_task(job, name="editor-training")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    model = await desk.start_training(
        sessionmaker=request.app.ctx.sessionmaker, setup=_setup(request), editor=editor, spawn=spawn
    )
    return json({"model": model}, status=202, headers=_NO_STORE)


@bp.get("/models")
@operation(
    "The live model, the one training, and the recent ones with their scores", auth="editor", answers={200: ModelList}
)
async def models(request: Request) -> HTTPResponse:
    async with transaction(request) as session:
        await require_editor(request, session)
        answer = await desk.list_models(session=session, setup=_setup(request))
    return json(answer, headers=_NO_STORE)


async def _load_model(request: Request, model_id: str, *, restore: bool) -> HTTPResponse:
    wanted = _model_id(model_id)
    async with transaction(request) as session:
        editor = await require_editor(request, session)
        answer = await desk.publish_model(
            session=session,
            sessionmaker=request.app.ctx.sessionmaker,
            setup=_setup(request),
            editor=editor,
            model_id=wanted,
            restore=restore,
        )
    return json(answer, headers=_NO_STORE)


@bp.post("/models/<model_id:str>/publish")
@operation(
    "Load a trained model into every Rasa server in turn; refused when it scores worse than the live one",
    auth="editor",
    answers={200: Published},
    errors=(404, 409, 503),
)
async def publish(request: Request, model_id: str) -> HTTPResponse:
    return await _load_model(request, model_id, restore=False)


@bp.post("/models/<model_id:str>/restore")
@operation(
    "Put a model that was live before back into every Rasa server",
    auth="editor",
    answers={200: Published},
    errors=(404, 409, 503),
)
async def restore(request: Request, model_id: str) -> HTTPResponse:
    return await _load_model(request, model_id, restore=True)
