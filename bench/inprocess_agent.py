"""Our model in a Rasa ``Agent`` inside this process, for the turn-latency
benchmark (bench/bot_latency.py starts it with the bot environment): no
HTTP channel, no action server (rasa_sdk's executor runs our actions in this
process), in-memory tracker and lock stores, no event broker. The handoff
action reaches the handoff service at HANDOFF_URL like the real one does.

Reads one JSON command a line on stdin ({"concurrency", "conversations",
"tag"}), runs that load and answers one line "RESULT <json>" on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from bench.load import run_cell
from stack.live import MODEL


class InProcessActions:
    """Stands in for the action server's endpoint in RemoteAction."""

    url = "in-process"
    kwargs: dict = {}
    headers: dict = {}

    def __init__(self) -> None:
        from rasa_sdk.executor import ActionExecutor

        self.executor = ActionExecutor()
        self.executor.register_package("actions")

    async def request(self, json: Any = None, **_: Any) -> Any:
        from rasa.utils.endpoints import ClientResponseError
        from rasa_sdk.interfaces import ActionExecutionRejection

        try:
            return await self.executor.run(json)
        except ActionExecutionRejection as exc:
            body = {"action_name": exc.action_name, "error": exc.message}
            raise ClientResponseError(400, "rejected", __import__("json").dumps(body)) from exc


class InProcessTarget:
    def __init__(self, agent: Any) -> None:
        self.agent = agent

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    @contextlib.asynccontextmanager
    async def conversation(self, sender: str, language: str) -> AsyncIterator[Callable[[str], Any]]:
        async def say(text: str) -> int:
            return len(await self.agent.handle_text(text, sender_id=sender) or [])

        yield say


def main() -> None:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings

    # the Rasa server's default level; debug logging would cost every turn
    configure_logging_and_warnings(logging.INFO)
    for noisy in ("rasa", "rasa_sdk", "actions", "bot"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    from bot import schema_checks

    schema_checks.install()  # as the Rasa server has it (bot/channels/turn.py)
    agent = Agent.load(str(MODEL), action_endpoint=InProcessActions())
    target = InProcessTarget(agent)
    loop = asyncio.new_event_loop()
    print("READY", os.getpid(), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        result = loop.run_until_complete(
            run_cell(target, command["concurrency"], command["conversations"], command["tag"])
        )
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
