"""Generated customer messages (tests/bot/generated_messages.py: every
plane of unicode, lone surrogates, control and zero-width characters,
right-to-left text, emoji, 100 KB texts, JSON-, HTML- and SQL-looking text,
script tags, slash commands, empty and blank) through both customer
channels, REST and socket.io, of the real assistant: Rasa, the action
server and the handoff service as their own processes (stack/live.py).

Every message must be answered (a reply, or a notice in the customer's
language), no answer may be a 5xx or show a stack trace or a template
name, and no process may log an unhandled error. Sizes:
``BOT_FUZZ_MESSAGES`` (default 1,500, half per channel; ``make fuzz`` sends
10,000) over ``BOT_FUZZ_CONVERSATIONS`` conversations at a time. The
counts are printed (``-s`` shows them).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import socketio
import yaml
from channel_server import close
from generated_messages import dumps, messages

from bot.settings import ROOT
from stack.live import LiveStack
from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER
from support_rules.tickets import TICKET_NUMBER_PATTERN

COUNT = int(os.environ.get("BOT_FUZZ_MESSAGES", "1500"))
AT_ONCE = int(os.environ.get("BOT_FUZZ_CONVERSATIONS", "4"))
TURNS = 20  # messages per conversation, then a new one
TURN_SECONDS = 90.0
QUIET_SECONDS = 0.3  # socket.io: the turn's replies arrive together; a pause ends them
LANGUAGES = ("tr", "en", None)
STACK_TRACE = re.compile(r"Traceback|File \"|line \d+, in |Exception:|Error:|\butter_[a-z_]+\b")
UNHANDLED = re.compile(r"Traceback \(most recent call last\)| ERROR |\bERROR\b|Exception in|unhandled error")
NOTICES = yaml.safe_load((ROOT / "data" / "channel_notices.yml").read_text(encoding="utf-8"))["notices"]


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    notices: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    reconnects: int = 0  # socket.io connections lost and opened again (the message sent again)
    handoffs: int = 0  # conversations the generated words took to a ticket

    def report(self, seconds: float) -> str:
        channels = ", ".join(f"{c} {self.sent[c]} sent / {self.answered[c]} answered" for c in ("rest", "socketio"))
        return (
            f"generated customer messages: {sum(self.sent.values())} ({channels}); "
            f"notices {sum(self.notices.values())}; REST statuses {dict(sorted(self.statuses.items()))}; "
            f"socket.io reconnects {self.reconnects}; handed off {self.handoffs}; "
            f"failures {len(self.failures)}; {seconds:.0f} s"
        )


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    running = LiveStack(tmp_path_factory.mktemp("generated"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _notice_texts(language: str | None) -> set[str]:
    """The channels' notices as the customer of ``language`` gets them."""
    out = set()
    for by_language in NOTICES.values():
        out.add(by_language[language] if language else "\n".join(by_language[lang] for lang in ("tr", "en")))
    return out


def _check(tally: Tally, where: str, language: str | None, replies: list[dict[str, Any]]) -> None:
    if not replies:
        tally.failures.append(f"{where}: no answer")
        return
    for reply in replies:
        text = reply.get("text") or ""
        if STACK_TRACE.search(text):
            tally.failures.append(f"{where}: {text[:200]!r}")
        if (reply.get("metadata") or {}).get("kind") == "notice" and text not in _notice_texts(language):
            tally.failures.append(f"{where}: notice not in the customer's language ({language}): {text[:100]!r}")


@dataclass
class Conversations:
    stack: LiveStack
    tally: Tally
    texts: Iterator[tuple[int, tuple[str, str]]]
    done: bool = False

    def take(self) -> list[tuple[int, str, str]]:
        """The next conversation's messages (the last one may be shorter)."""
        taken = [(i, kind, text) for i, (kind, text) in itertools.islice(self.texts, TURNS)]
        self.done = len(taken) < TURNS
        return taken

    async def rest(self, http: aiohttp.ClientSession, language: str | None) -> None:
        # the channel issues the conversation: the first message goes without
        # a sender, the next ones with the id and secret it answered
        conversation: tuple[str, str] | None = None
        metadata = {"language": language} if language else {}
        for i, kind, text in self.take():
            where = f"rest #{i} {kind} {text[:60]!r}"
            self.tally.sent["rest"] += 1
            self.tally.kinds[kind] += 1
            headers = {"Content-Type": "application/json"}
            fields: dict[str, Any] = {"message": text, "metadata": metadata}
            if conversation is not None:
                fields["sender"] = conversation[0]
                headers[CONVERSATION_SECRET_HEADER] = conversation[1]
            try:
                async with http.post(
                    f"{self.stack.rasa_url}/webhooks/rest/webhook",
                    data=dumps(fields),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=TURN_SECONDS),
                ) as res:
                    self.tally.statuses[res.status] += 1
                    replies = await res.json(content_type=None)
                    if conversation is None and CONVERSATION_ID_HEADER in res.headers:
                        conversation = (res.headers[CONVERSATION_ID_HEADER], res.headers[CONVERSATION_SECRET_HEADER])
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                self.tally.failures.append(f"{where}: no answer ({exc!r})")
                continue
            if res.status >= 500 and not (res.status == 503 and _all_notices(replies)):
                self.tally.failures.append(f"{where}: {res.status} {str(replies)[:200]}")
            replies = replies if isinstance(replies, list) else []
            _check(self.tally, where, language, replies)
            self._count("rest", replies)
            if _handed_off(replies):  # the agents' now: the bot is silent by design
                self.tally.handoffs += 1
                conversation = None

    async def socket(self, language: str | None) -> None:
        """One conversation as the web chat holds it: a lost connection is
        opened again on the same session and the message in flight sent
        again (``resend`` with its ``message_id``), as the page does."""
        socket = _Socket(self.stack)
        session = await socket.open(None)
        try:
            for i, kind, text in self.take():
                where = f"socketio #{i} {kind} {text[:60]!r}"
                self.tally.sent["socketio"] += 1
                self.tally.kinds[kind] += 1
                metadata = {"language": language} if language else {}
                data = {
                    "message": text,
                    "session_id": session[0],
                    "session_secret": session[1],
                    "customData": {**metadata, "message_id": f"m{i}"},
                }
                replies: list[dict[str, Any]] = []
                for attempt in range(3):
                    if attempt:
                        self.tally.reconnects += 1
                        data["customData"]["resend"] = True
                        await socket.open(session)
                    replies = await socket.turn(data)
                    if replies or socket.connected:
                        break
                _check(self.tally, where, language, replies)
                self._count("socketio", replies)
                if _handed_off(replies):  # the agents' now: the bot is silent by design
                    self.tally.handoffs += 1
                    session = await socket.open(None)
        finally:
            await socket.close()

    def _count(self, channel: str, replies: list[dict[str, Any]]) -> None:
        if replies:
            self.tally.answered[channel] += 1
        if _all_notices(replies):
            self.tally.notices[channel] += 1


def _handed_off(replies: list[dict[str, Any]]) -> bool:
    """The bot gave a ticket number: the conversation went to the agents'
    queue, where the bot says nothing (README); the next messages go to a
    new conversation."""
    return any(re.search(TICKET_NUMBER_PATTERN, str(r.get("text") or "")) for r in replies)


def _all_notices(replies: Any) -> bool:
    return (
        isinstance(replies, list)
        and bool(replies)
        and all((r.get("metadata") or {}).get("kind") == "notice" for r in replies if isinstance(r, dict))
    )


class _Socket:
    """A socket.io client that notices when its connection is lost."""

    def __init__(self, stack: LiveStack) -> None:
        self.stack = stack
        self.client: socketio.AsyncClient | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.lost = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.client is not None and not self.lost.is_set()

    async def open(self, session: tuple[str, str] | None) -> tuple[str, str]:
        """Connects, in ``session`` (id, secret) or in a new conversation the
        channel issues; returns the conversation's id and secret."""
        await self.close()
        lost = self.lost = asyncio.Event()
        client = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda answer: confirmed.done() or confirmed.set_result(answer))
        client.on("bot_uttered", self.inbox.put_nowait)
        client.on("disconnect", lambda *_: lost.set())
        self.client = client
        await client.connect(self.stack.rasa_url, transports=["polling"], headers={"Origin": self.stack.handoff_url})
        request = {"session_id": session[0], "session_secret": session[1]} if session else {}
        await client.emit("session_request", request)
        answer = await asyncio.wait_for(confirmed, 30)
        assert session is None or answer["session_id"] == session[0], answer
        return answer["session_id"], answer["session_secret"]

    async def turn(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """A turn's replies: the first within the turn's time, the rest until
        a pause; none if the connection was lost first."""
        assert self.client is not None
        try:
            await self.client.emit("user_uttered", data)
        except socketio.exceptions.BadNamespaceError:
            self.lost.set()
            return []
        replies: list[dict[str, Any]] = []
        wait = TURN_SECONDS
        while True:
            got = asyncio.ensure_future(self.inbox.get())
            lost = asyncio.ensure_future(self.lost.wait())
            done, _ = await asyncio.wait({got, lost}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            lost.cancel()
            if got not in done:
                got.cancel()
                return replies
            replies.append(got.result())
            wait = QUIET_SECONDS

    async def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await close(client)


async def _run(stack: LiveStack, tally: Tally) -> None:
    """Half the messages per channel, each channel's from its own seed, over
    ``AT_ONCE`` conversations at a time (half of them per channel)."""
    per_channel = {"rest": COUNT - COUNT // 2, "socketio": COUNT // 2}
    channels = {
        name: Conversations(stack, tally, enumerate(itertools.islice(messages(seed=16 + n), count)))
        for n, (name, count) in enumerate(per_channel.items())
    }
    languages = itertools.cycle(LANGUAGES)
    async with aiohttp.ClientSession() as http:

        async def worker(name: str) -> None:
            conversations = channels[name]
            while not conversations.done:
                if name == "rest":
                    await conversations.rest(http, next(languages))
                else:
                    await conversations.socket(next(languages))

        await asyncio.gather(*(worker(name) for name in channels for _ in range(max(1, AT_ONCE // 2))))


def test_generated_messages_are_all_answered_without_errors(
    assistant: LiveStack, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = Tally()
    started = time.monotonic()
    asyncio.run(_run(assistant, tally))
    with capsys.disabled():  # the counts show in every run, `make test` too
        print("\n" + tally.report(time.monotonic() - started))
        print("  kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.kinds.items())))
    for failure in tally.failures[:20]:
        print("  " + failure)
    logs = {
        name: (assistant.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        for name in ("rasa", "actions", "handoff")
    }
    unhandled = [
        f"{name}: {line[:300]}" for name, log in logs.items() for line in log.splitlines() if UNHANDLED.search(line)
    ]
    for line in unhandled[:20]:
        print("  " + line)
    for name, log in logs.items():  # the first traceback of each log, whole
        if "Traceback" in log:
            print(f"--- {name}.log\n" + "\n".join(log[log.index("Traceback") :].splitlines()[:60]))
    assert sum(tally.sent.values()) >= COUNT
    assert tally.sent["rest"] > 0 and tally.sent["socketio"] > 0
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert not unhandled, "\n".join(unhandled[:20])
