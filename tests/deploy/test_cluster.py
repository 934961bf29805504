"""docker-compose.yml's topology as local processes (stack/cluster.py):
two Rasa replicas (PostgreSQL trackers, Redis locks, socket.io through
Redis), two action servers, two handoff-service replicas (PostgreSQL, live
updates through LISTEN/NOTIFY), RabbitMQ as the event broker, nginx in
front.

Customers talk over socket.io, spread over both Rasa replicas by the test
client (a browser keeps its socket on one replica; the proxy does that by
client address); agents are spread over both handoff replicas. Figures are
printed (run with -s to see them); what is asserted is that nothing is
lost, duplicated or claimed twice, and that the run survives losing one
replica of each part.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import socketio

from stack.cluster import SECRETS, ClusterStack
from support_rules.rasa_auth import rasa_api_headers

logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on every close

AGENT_PASSWORD = "cluster-agent-password"
TICKET = re.compile(r"T-\d{6}")
EN = [
    ("hello", "date of birth"),
    ("May 4, 1990", "How can I help"),
    ("I want to talk to a human agent", "What is your problem about"),
    ("withdrawl", "When did"),
    ("last friday", "username"),
    ("{username}", "Is this correct"),
    ("yes", TICKET.pattern),
]
TR = [
    ("merhaba, dün yaptığım para çekme hala hesabıma gelmedi", "Doğum tarihiniz"),
    ("17.08.1985", "çözdü mü"),
    ("hayır", "kullanıcı adınız"),
    ("{username}", "Para çekme"),
    ("evet", TICKET.pattern),
]


def figure(text: str) -> None:
    print(f"\n[cluster] {text}", flush=True)


@dataclass
class Customer:
    """A web chat customer: one socket.io connection to one Rasa replica,
    moved to another replica (same session) if its replica goes away."""

    index: int
    language: str
    urls: list[str]
    run: str
    received: list[dict] = field(default_factory=list)
    resent: int = 0  # messages sent again after the socket died
    ticket: str | None = None
    connect_kwargs: dict[str, Any] = field(default_factory=dict)
    rasa_api: str = ""  # Rasa's HTTP API (the proxy's internal listener)

    def __post_init__(self) -> None:
        # picked by the first replica with its secret; any replica lets the customer back in with it
        self.session_id: str | None = None
        self.session_secret: str | None = None
        self.username = f"cust_{self.language}_{self.index:03d}"
        self.replica = self.index % len(self.urls)
        self.sio: socketio.AsyncClient | None = None
        self.arrived = asyncio.Event()
        self.sent_ids: list[str] = []  # message ids as sent, a resend's again
        self.last: tuple[str, str] = ("", "")  # the last message said and its id

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.received]

    async def connect(self) -> None:
        sio = socketio.AsyncClient(reconnection=False, **self.connect_kwargs)
        confirmed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_message(data: Any) -> None:
            self.received.append(data if isinstance(data, dict) else {"text": str(data)})
            self.arrived.set()

        sio.on("bot_uttered", on_message)
        sio.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
        await sio.connect(self.urls[self.replica], transports=["websocket"], wait_timeout=10)
        await sio.emit("session_request", {"session_id": self.session_id, "session_secret": self.session_secret})
        confirm = await asyncio.wait_for(confirmed, 10)
        assert self.session_id in (None, confirm["session_id"]), confirm
        self.session_id, self.session_secret = confirm["session_id"], confirm["session_secret"]
        self.sio = sio

    async def move(self, alive: list[str]) -> None:
        """The replica is gone: the same session on another one."""
        if self.sio is not None:
            await self.sio.disconnect()
        self.urls = alive
        self.replica = (self.replica + 1) % len(alive)
        await self.connect()

    async def send(self, text: str, message_id: str | None = None, resend: bool = False) -> None:
        """As the web chat sends: with a message id, and ``resend`` when the
        message goes again after its acknowledgement was lost."""
        assert self.sio is not None
        data = {
            "language": self.language,
            "message_id": message_id or uuid.uuid4().hex[:16],
            **({"resend": True} if resend else {}),
        }
        mine = {"session_id": self.session_id, "session_secret": self.session_secret}
        await self.sio.emit("user_uttered", {"message": text, **mine, "customData": data})
        self.sent_ids.append(data["message_id"])

    async def say(self, text: str, expect: str, alive: Any, timeout: float = 90) -> list[str]:
        """Send, and wait for a reply matching ``expect``. If the socket dies
        first, the customer reconnects through another replica and sends the
        message again with the same id, as the web chat does: Rasa answers
        from the conversation if a replica had handled it, handles it if
        not."""
        message_id = uuid.uuid4().hex[:16]
        self.last = (text, message_id)
        for attempt in range(3):
            start = len(self.received)
            try:
                if self.sio is None or not self.sio.connected:
                    raise ConnectionError("socket closed")
                await self.send(text, message_id, resend=attempt > 0)
                deadline = time.monotonic() + timeout
                while not any(re.search(expect, t) for t in self.texts[start:]):
                    if not self.sio.connected:
                        raise ConnectionError("socket closed")
                    self.arrived.clear()
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no {expect!r} after {text!r}")
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.arrived.wait(), min(remaining, 1.0))
                return self.texts[start:]
            except (ConnectionError, TimeoutError, socketio.exceptions.SocketIOError) as exc:
                if attempt == 2:
                    raise AssertionError(f"{self.session_id}: {exc}; got {self.texts[-6:]}") from exc
                await self.move(alive())
                self.resent += 1
        raise AssertionError("unreachable")

    async def resend_last(self, expect: str, timeout: float = 30) -> list[str]:
        """The last message again, as the web chat sends it when the
        acknowledgement was lost: the replies must come from the
        conversation, the message not be handled twice."""
        text, message_id = self.last
        start = len(self.received)
        await self.send(text, message_id, resend=True)
        deadline = time.monotonic() + timeout
        while not any(re.search(expect, t) for t in self.texts[start:]):
            assert time.monotonic() < deadline, f"{self.session_id}: no {expect!r} after resending {text!r}"
            await asyncio.sleep(0.1)
        return self.texts[start:]

    async def held_message_ids(self) -> list[str]:
        """The message ids of the customer messages the conversation holds."""
        async with httpx.AsyncClient(timeout=30) as client:
            res = await client.get(
                f"{self.rasa_api}/conversations/{self.session_id}/tracker",
                headers=rasa_api_headers(SECRETS["RASA_JWT_SECRET"], conversation_id=self.session_id),
            )
        res.raise_for_status()
        return [(e.get("metadata") or {}).get("message_id") for e in res.json()["events"] if e.get("event") == "user"]

    async def to_handoff(self, alive: Any, before_step: Any = None) -> str:
        script = EN if self.language == "en" else TR
        for step, (text, expect) in enumerate(script):
            if before_step is not None:
                await before_step(self, step)
            replies = await self.say(text.format(username=self.username), expect, alive)
        self.ticket = TICKET.search(" ".join(replies)).group(0)
        return self.ticket

    def count(self, text: str) -> int:
        return sum(1 for t in self.texts if text in t)

    async def close(self) -> None:
        if self.sio is not None and self.sio.connected:
            await self.sio.disconnect()


@dataclass
class AgentClient:
    """An agent's console without the browser: the API and the live stream
    of one handoff replica."""

    username: str
    url: str
    live: list[dict] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    failovers: int = 0

    async def open(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.url, timeout=60)
        res = await self.http.post("/api/v1/auth/login", json={"username": self.username, "password": AGENT_PASSWORD})
        assert res.status_code == 200, res.text
        self.headers = {"Authorization": f"Bearer {res.json()['token']}"}
        self.connected = asyncio.Event()
        self.stream = asyncio.create_task(self._listen())
        await asyncio.wait_for(self.connected.wait(), 10)

    async def _listen(self) -> None:
        import json

        async with self.http.stream("GET", "/api/v1/live", headers=self.headers, timeout=None) as stream:
            kind = None
            async for line in stream.aiter_lines():
                if line == ": connected":
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    self.live.append({"kind": kind, **json.loads(line[6:])})

    async def move(self, url: str) -> None:
        """Its replica is gone: the console reconnects through another."""
        self.stream.cancel()
        await asyncio.gather(self.stream, return_exceptions=True)
        await self.http.aclose()
        self.url = url
        await self.open()

    async def call(self, method: str, path: str, alive: Any, **kwargs: Any) -> httpx.Response:
        """A request that, when its replica is gone (connection refused or
        cut), moves the console to another replica and sends it again."""
        for attempt in range(3):
            try:
                return await self.http.request(method, path, headers=self.headers, **kwargs)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                self.failovers += 1
                await self.move(alive()[0])
        raise AssertionError("unreachable")

    async def claim_all(self, alive: Any) -> None:
        while True:
            res = await self.call("POST", "/api/v1/queue/claim", alive)
            if res.status_code == 404:
                return
            assert res.status_code == 200, res.text
            self.claimed.append(res.json()["ticket_number"])

    async def reply(self, number: str, text: str, alive: Any) -> None:
        """One reply; sent again after a failover with the same client id,
        so the customer gets it once."""
        res = await self.call(
            "POST", f"/api/v1/tickets/{number}/reply", alive, json={"text": text, "client_id": uuid.uuid4().hex}
        )
        assert res.status_code in (200, 201), res.text

    def messages_for(self, number: str, sender: str) -> int:
        return sum(
            1
            for e in self.live
            if e["kind"] == "message.new" and e["ticket_number"] == number and e.get("sender") == sender
        )

    async def transcript(self, number: str) -> list[tuple[str, str]]:
        res = await self.http.get(f"/api/v1/tickets/{number}", headers=self.headers)
        assert res.status_code == 200, res.text
        return [(m["sender"], m["text"]) for m in res.json()["transcript"]]

    async def close(self) -> None:
        self.stream.cancel()
        await asyncio.gather(self.stream, return_exceptions=True)
        await self.http.aclose()


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ClusterStack]:
    stack = ClusterStack(tmp_path_factory.mktemp("cluster"))
    started = time.monotonic()
    try:
        await stack.start()
        figure(
            f"{len(stack.processes)} processes up in {time.monotonic() - started:.0f} s: {', '.join(sorted(stack.processes))}"
        )
        await _create_agents(stack, 10)
        yield stack
    finally:
        await stack.stop()


async def _create_agents(stack: ClusterStack, count: int) -> None:
    from handoff.db import make_engine, make_sessionmaker
    from handoff.services.agents import create_agent

    engine = make_engine(stack.environment("migrate")["DATABASE_URL"])
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for i in range(count):
                await create_agent(
                    session=session,
                    username=f"agent{i:02d}",
                    password=AGENT_PASSWORD,
                    display_name=f"Agent {i:02d}",
                    role="agent",
                    departments=["finance", "account", "technical", "other"],
                )
    finally:
        await engine.dispose()


def _rasa_api(stack: ClusterStack) -> str:
    return f"http://127.0.0.1:{stack.proxy_ports['rasa']}"


def _alive(stack: ClusterStack, service: str):
    return lambda: stack.urls(service)


async def _agents(stack: ClusterStack, names: list[str]) -> list[AgentClient]:
    urls = stack.urls("handoff")
    agents = [AgentClient(name, urls[i % len(urls)]) for i, name in enumerate(names)]
    await asyncio.gather(*(a.open() for a in agents))
    return agents


async def _each_message_held_once(customers: list[Customer], tag: str) -> None:
    """Every message a customer sent, resends included, is in the
    conversation exactly once: none lost, none handled twice."""
    held = await asyncio.gather(*(c.held_message_ids() for c in customers))
    wrong = {
        c.session_id: (ids, c.sent_ids)
        for c, ids in zip(customers, held, strict=True)
        if ids != list(dict.fromkeys(c.sent_ids))
    }
    figure(
        f"{tag}: conversations holding each message sent exactly once, in order: {len(customers) - len(wrong)}/{len(customers)}"
    )
    assert wrong == {}


async def _relay(stack: ClusterStack, customers: list[Customer], agents: list[AgentClient], tag: str) -> None:
    """Claims, then a reply from each agent and a message from each customer;
    asserts each arrives exactly once."""
    started = time.monotonic()
    await asyncio.gather(*(a.claim_all(_alive(stack, "handoff")) for a in agents))
    claims = Counter(n for a in agents for n in a.claimed)
    tickets = {c.ticket for c in customers}
    double = [n for n, k in claims.items() if k > 1]
    figure(
        f"{tag}: {sum(claims.values())} claims by {sum(1 for a in agents if a.claimed)} agents in {time.monotonic() - started:.2f} s; claimed twice: {len(double)}"
    )
    assert double == [] and set(claims) == tickets

    owner = {n: a for a in agents for n in a.claimed}
    by_ticket = {c.ticket: c for c in customers}
    started = time.monotonic()
    await asyncio.gather(
        *(owner[n].reply(n, f"Agent reply for {n} ({tag})", _alive(stack, "handoff")) for n in tickets)
    )
    for c in customers:
        await asyncio.gather(c.send(f"customer follow-up {c.index} ({tag})"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = sum(1 for n in tickets if by_ticket[n].count(f"Agent reply for {n} ({tag})") >= 1)
        relayed = sum(1 for n in tickets if owner[n].messages_for(n, "customer") >= 1)
        if delivered == relayed == len(tickets):
            break
        await asyncio.sleep(0.5)
    figure(
        f"{tag}: agent replies reaching their customer: {delivered}/{len(tickets)}; customer messages live on the "
        f"agent's replica: {relayed}/{len(tickets)}; in {time.monotonic() - started:.1f} s"
    )
    await asyncio.sleep(2)  # anything duplicated would have arrived by now
    replies = Counter(by_ticket[n].count(f"Agent reply for {n} ({tag})") for n in tickets)
    assert replies == Counter({1: len(tickets)}), f"replies per customer: {replies}"
    for n in tickets:
        follow_up = f"customer follow-up {by_ticket[n].index} ({tag})"
        lines = await owner[n].transcript(n)
        assert lines.count(("customer", follow_up)) == 1, (n, lines)
        assert sum(1 for sender, text in lines if sender == "agent" and text == f"Agent reply for {n} ({tag})") == 1, (
            n,
            lines,
        )
    names = {p.url: p.name for p in stack.processes.values()}
    spread = Counter(names.get(owner[n].url, "?") for n in tickets)
    figure(
        f"{tag}: transcripts complete, each line once; tickets per handoff replica the agent works through: {dict(sorted(spread.items()))}"
    )


async def test_fifty_customers_ten_agents_nothing_lost_or_doubled(cluster: ClusterStack) -> None:
    run = uuid.uuid4().hex[:6]
    rasa = cluster.urls("rasa")
    customers = [Customer(i, "en" if i % 2 else "tr", rasa, run, rasa_api=_rasa_api(cluster)) for i in range(50)]
    await asyncio.gather(*(c.connect() for c in customers))
    started = time.monotonic()
    tickets = await asyncio.gather(*(c.to_handoff(_alive(cluster, "rasa")) for c in customers))
    elapsed = time.monotonic() - started
    turns = sum(len(EN if c.language == "en" else TR) for c in customers)
    figure(
        f"50 customers (25 tr, 25 en) over {len(rasa)} Rasa replicas reached a handoff in {elapsed:.1f} s ({turns} turns, {turns / elapsed:.1f} turns/s); sent again: {sum(c.resent for c in customers)}"
    )
    assert len(set(tickets)) == 50
    # ten customers lost the acknowledgement of their last message: sent again, answered from the conversation
    again = await asyncio.gather(*(c.resend_last(TICKET.pattern) for c in customers[:10]))
    assert [TICKET.search(" ".join(r)).group(0) for r in again] == [c.ticket for c in customers[:10]]
    figure("a last message sent again with its id by 10 customers: the same replies, from the conversation")
    agents = await _agents(cluster, [f"agent{i:02d}" for i in range(10)])
    try:
        await _relay(cluster, customers, agents, "steady")
        await _each_message_held_once(customers, "steady")
    finally:
        await asyncio.gather(*(a.close() for a in agents), *(c.close() for c in customers))


async def test_one_replica_of_each_part_killed_mid_run(cluster: ClusterStack) -> None:
    run = uuid.uuid4().hex[:6]
    customers = [
        Customer(100 + i, "en" if i % 2 else "tr", cluster.urls("rasa"), run, rasa_api=_rasa_api(cluster))
        for i in range(10)
    ]
    await asyncio.gather(*(c.connect() for c in customers))
    agents = await _agents(cluster, [f"agent{i:02d}" for i in range(4)])
    reached = asyncio.Event()
    at_step_two: set[int] = set()
    killed: list[str] = []

    async def before_step(customer: Customer, step: int) -> None:
        if step == 2:
            at_step_two.add(customer.index)
            if len(at_step_two) == len(customers):
                reached.set()

    async def kill_when_busy() -> None:
        await reached.wait()
        await asyncio.sleep(0.3)  # third messages are on their way
        for name in ("rasa-0", "actions-0", "handoff-0"):
            cluster.kill(name)
            killed.append(name)
        figure(f"killed {', '.join(killed)} (SIGKILL) with {len(customers)} conversations in flight")

    killer = asyncio.create_task(kill_when_busy())
    started = time.monotonic()
    tickets = await asyncio.gather(*(c.to_handoff(_alive(cluster, "rasa"), before_step) for c in customers))
    await killer
    figure(
        f"after the kill: {len(set(tickets))}/{len(customers)} conversations reached a handoff in {time.monotonic() - started:.1f} s; "
        f"messages in flight when their replica died, sent again with their id: {sum(c.resent for c in customers)}"
    )
    assert len(set(tickets)) == len(customers) and killed == ["rasa-0", "actions-0", "handoff-0"]
    try:
        await _relay(cluster, customers, agents, "after-kill")
        moved = [a.username for a in agents if a.failovers]
        figure(
            f"agents whose replica died and whose request was sent again through the other one: {len(moved)} of {len(agents)}"
        )
        assert len(moved) == 2  # agents 0 and 2 were on handoff-0
        await _each_message_held_once(customers, "after-kill")
    finally:
        await asyncio.gather(*(a.close() for a in agents), *(c.close() for c in customers))


async def test_the_proxy_terminates_tls_and_routes_each_path(cluster: ClusterStack) -> None:
    https = f"https://127.0.0.1:{cluster.proxy_ports['https']}"
    async with httpx.AsyncClient(verify=False, timeout=30) as client:
        health = await client.get(f"{https}/healthz")
        assert health.status_code == 200 and health.headers["strict-transport-security"].startswith("max-age=")
        assert "<html" in (await client.get(f"{https}/console/")).text.lower()
        plain = await client.get(f"http://127.0.0.1:{cluster.proxy_ports['http']}/console/", follow_redirects=False)
        assert plain.status_code == 301 and plain.headers["location"].startswith(
            f"https://127.0.0.1:{cluster.proxy_ports['https']}/console/"
        )
        rest = await client.post(f"{https}/webhooks/rest/webhook", json={"message": "hello"})
        assert "date of birth" in " ".join(m.get("text", "") for m in rest.json())
        assert (
            await client.get(f"{https}/conversations/x/tracker")
        ).status_code == 404  # Rasa's HTTP API is internal only
    # a web chat customer through the proxy: secure websocket, kept on one Rasa replica
    customer = Customer(900, "en", [https], uuid.uuid4().hex[:6], rasa_api=_rasa_api(cluster))
    customer.connect_kwargs = {"ssl_verify": False}
    await customer.connect()
    try:
        assert "date of birth" in " ".join(await customer.say("hello", "date of birth", _alive(cluster, "rasa")))
    finally:
        await customer.close()
