"""The load of the turn-latency benchmark: customers at once, each running
its share of the conversations, every turn timed. Standard library only:
the same code drives the HTTP targets (bench environment) and the
in-process Rasa agent (bot environment)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.common import Stopwatch, summary
from bench.conversations import script


async def run_cell(target: Any, concurrency: int, conversations: int, tag: str) -> dict[str, Any]:
    """``target.conversation(sender, language)`` is an async context manager
    giving ``say(text) -> number of bot messages``; one call is one turn."""
    latencies: list[float] = []
    errors: list[str] = []
    silent_turns = 0

    async def customer(index: int) -> None:
        nonlocal silent_turns
        for number in range(index, conversations, concurrency):
            language, texts = script(number)
            sender = f"bench-{tag}-{number}-{uuid.uuid4().hex[:8]}"
            try:
                async with target.conversation(sender, language) as say:
                    for text in texts:
                        began = time.perf_counter()
                        replies = await say(text)
                        latencies.append(time.perf_counter() - began)
                        silent_turns += replies == 0
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    await target.open()
    try:
        clock = Stopwatch()
        await asyncio.gather(*(customer(i) for i in range(concurrency)))
        elapsed = clock()
    finally:
        await target.close()
    return {
        **summary(latencies, elapsed),
        "errors": len(errors),
        "error_examples": errors[:3],
        "silent_turns": silent_turns,
        "elapsed_s": round(elapsed, 2),
    }
