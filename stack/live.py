"""The whole assistant as separate processes on free ports, for live tests
and the benchmarks.

Rasa (HTTP API with JWT auth, SQL tracker store, SQL event broker), the action
server and the handoff service (following the event broker, delivering
agent replies through Rasa) run from the project's two virtual
environments, each with its own files in a temporary folder. Standard
library only, so the bot tests (Python 3.10) and the browser tests (the
handoff environment) share it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support_rules.conversations import CONVERSATION_ID_HEADER, CONVERSATION_SECRET_HEADER
from support_rules.identity import CONVERSATION_HEADER, header_value
from support_rules.rasa_auth import JWT_METHOD, rasa_api_headers
from support_rules.tickets import TICKET_NUMBER_PATTERN

__all__ = ["LiveStack", "ROOT", "ticket_number_in", "wait_for", "wait_until_up", "free_port"]

ROOT = Path(__file__).resolve().parents[1]
BOT_BIN = ROOT / ".venv" / "bot" / "bin"
HANDOFF_PY = ROOT / ".venv" / "handoff" / "bin" / "python"
MODEL = ROOT / "models" / "triage.tar.gz"
# the PostgreSQL whose server holds the stacks' own databases (several Rasa servers' tracker store here, stack/cluster.py's)
PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SERVICE_TOKEN = "live-test-service-token-0123456789abcdef"
RASA_JWT_SECRET = "live-test-rasa-jwt-secret-0123456789abcdef"
AGENT_PASSWORD = "live-test-password"
CUSTOMER_TOKEN_SECRET = "live-test-customer-token-secret-0123456789"
CONVERSATION_SECRET_KEY = "live-test-conversation-secret-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    url: str, body: Any = None, headers: dict | None = None, timeout: float = 60, method: str | None = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_for(predicate: Callable[[], Any], seconds: float = 30, interval: float = 0.25) -> Any:
    """The first truthy value of ``predicate``; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds} s")
        time.sleep(interval)


def ticket_number_in(texts: list[str]) -> str:
    found = re.search(TICKET_NUMBER_PATTERN, " ".join(texts))
    assert found, texts
    return found.group(0)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering at all means it is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


class LiveStack:
    def __init__(
        self, tmp: Path, *, broker: str = "sql", extra_env: dict[str, str] | None = None, rasa_servers: int = 1
    ) -> None:
        """``broker``: ``sql`` (Rasa's SQL broker, the default of `make run`)
        or ``rabbitmq`` (the RabbitMQ on this machine, a queue of this run's own).
        ``rasa_servers`` above 1: that many Rasa servers, configured as
        replicas are (deploy/endpoints.cluster.yml): the tracker store in this
        machine's PostgreSQL (``PG_URL``'s server, a database of this run's
        own, dropped by ``stop``), the lock store and the socket.io fan-out
        in its Redis (keys and channel of this run's own); ``rasa_urls``
        lists them, ``rasa_url`` is the first."""
        self.tmp = tmp
        self.broker = broker
        self.rabbitmq_queue = f"rasa_events_{tmp.name}_{os.getpid()}"
        self.rasa_port, self.actions_port, self.handoff_port = free_port(), free_port(), free_port()
        self.rasa_ports = [self.rasa_port, *(free_port() for _ in range(rasa_servers - 1))]
        self.rasa_urls = [f"http://127.0.0.1:{port}" for port in self.rasa_ports]
        self.run_name = re.sub(r"[^a-z0-9]", "", f"live{os.getpid()}{tmp.name}".lower())
        self.tracker_pg = f"{self.run_name}_tracker" if rasa_servers > 1 else None
        # support mail as `make run` has it: an SMTP server in the handoff
        # service, and the desk's own mail written as files (a directory relay)
        self.smtp_port = free_port()
        self.mail_outbox = tmp / "mail-outbox"
        self.tracker_db = tmp / "tracker.db"
        self.events_db = tmp / "events.db"
        self.processes: dict[str, subprocess.Popen] = {}
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.handoff_url = f"http://127.0.0.1:{self.handoff_port}"
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "HANDOFF_URL": self.handoff_url,
            "HANDOFF_PORT": str(self.handoff_port),
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "HANDOFF_SECRET_KEY": "live-test-secret-key-0123456789abcdef",
            "DEMO_AGENT_PASSWORD": AGENT_PASSWORD,
            "CUSTOMER_TOKEN_SECRET": CUSTOMER_TOKEN_SECRET,
            "CONVERSATION_SECRET_KEY": CONVERSATION_SECRET_KEY,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'handoff.db'}",
            "OUTBOX_PATH": str(tmp / "outbox.db"),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "RASA_URL": self.rasa_url,
            "RASA_PUBLIC_URL": self.rasa_url,
            "RASA_JWT_SECRET": RASA_JWT_SECRET,
            # what `make run` binds by default (mk/common.mk): this machine only
            "SANIC_HOST": "127.0.0.1",
            "HANDOFF_EVENTS_SOURCE": broker,
            "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
            "RABBITMQ_QUEUE": self.rabbitmq_queue,
            "RASA_EVENTS_URL": f"sqlite+aiosqlite:///{self.events_db}",
            "HANDOFF_QUEUE_NOTICE_INTERVAL": "0",
            "HANDOFF_QUEUE_NOTICE_POLL": "1",
            "WEBCHAT_ORIGINS": f"{self.handoff_url},http://localhost:{self.handoff_port}",
            "HANDOFF_SMTP_LISTEN": f"127.0.0.1:{self.smtp_port}",
            "HANDOFF_MAIL_RELAY": str(self.mail_outbox),
            "HANDOFF_MAIL_RETRY": "0.5",
            **(
                {
                    "SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/2",
                    "SOCKETIO_REDIS_CHANNEL": f"socketio_{self.run_name}",
                }
                if rasa_servers > 1
                else {}
            ),
            **(extra_env or {}),
        }
        self._commands = {
            "handoff": ([str(HANDOFF_PY), "-m", "handoff", "serve"], f"{self.handoff_url}/api/v1/openapi.json"),
            "actions": (
                [str(BOT_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
                f"http://127.0.0.1:{self.actions_port}/health",
            ),
            **{"rasa" if i == 0 else f"rasa-{i}": self._rasa_command(port) for i, port in enumerate(self.rasa_ports)},
        }
        self._tokens: dict[str, str] = {}
        # a test's name for a customer -> (conversation id, secret) the REST channel issued
        self._conversations: dict[str, tuple[str, str]] = {}

    def _rasa_command(self, port: int) -> tuple[list[str], str]:
        return (
            [
                str(BOT_BIN / "rasa"),
                "run",
                "--enable-api",
                "--jwt-secret",
                RASA_JWT_SECRET,
                "--jwt-method",
                JWT_METHOD,
                "--interface",
                "127.0.0.1",
                "--model",
                str(MODEL),
                "--endpoints",
                str(self.tmp / "endpoints.yml"),
                "--port",
                str(port),
                "--credentials",
                str(ROOT / "credentials.yml"),
            ],
            f"http://127.0.0.1:{port}/",
        )

    # processes ---------------------------------------------------------------

    def start(self) -> None:
        if self.tracker_pg is not None:
            self._psql(f'CREATE DATABASE "{self.tracker_pg}"')
        (self.tmp / "endpoints.yml").write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            + self._tracker_store_config()
            + self._lock_store_config()
            + self._broker_config()
        )
        subprocess.run(
            [str(HANDOFF_PY), "-m", "handoff", "bootstrap"], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        for name in ("handoff", "actions", "rasa"):
            self.start_process(name)
        # the others once the first has created the tracker store's tables
        for i in range(1, len(self.rasa_ports)):
            self.start_process(f"rasa-{i}")

    def start_service(self) -> None:
        """The handoff service alone (bootstrapped: departments, demo agents),
        for tests that talk to its API only."""
        subprocess.run(
            [str(HANDOFF_PY), "-m", "handoff", "bootstrap"], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        self.start_process("handoff")

    def _tracker_store_config(self) -> str:
        store = "tracker_store:\n  type: bot.tracker_store.RedactingSQLTrackerStore\n"
        if self.tracker_pg is None:
            return f"{store}  dialect: sqlite\n  db: {self.tracker_db}\n"
        server = urllib.parse.urlsplit(PG_URL)
        return (
            f"{store}  dialect: postgresql\n  url: {server.hostname}\n  port: {server.port or 5432}\n"
            f"  db: {self.tracker_pg}\n  username: {server.username or 'postgres'}\n"
            + (f"  password: {server.password}\n" if server.password else "")
        )

    def _psql(self, command: str) -> None:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", PG_URL, "-c", command], check=True, capture_output=True)

    def _lock_store_config(self) -> str:
        if len(self.rasa_ports) == 1:
            return "lock_store:\n  type: in_memory\n"
        return f"lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 3\n  key_prefix: {self.run_name}\n"

    def _broker_config(self) -> str:
        if self.broker == "rabbitmq":
            return (
                "event_broker:\n  type: pika\n  url: 127.0.0.1\n  port: 5672\n  username: guest\n"
                f"  password: guest\n  queues:\n    - {self.rabbitmq_queue}\n"
            )
        return f"event_broker:\n  type: SQL\n  dialect: sqlite\n  db: {self.events_db}\n"

    def start_process(self, name: str) -> None:
        args, health = self._commands[name]
        log = self.tmp / f"{name}.log"
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        self.processes[name] = process
        wait_until_up(health, process, log)

    def stop_process(self, name: str, *, kill: bool = False) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop(self) -> None:
        try:
            for name in list(self.processes):
                self.stop_process(name)
        finally:
            if self.tracker_pg is not None:
                try:
                    self._psql(f'DROP DATABASE IF EXISTS "{self.tracker_pg}" WITH (FORCE)')
                except (OSError, subprocess.CalledProcessError) as exc:
                    print(f"could not drop the tracker database {self.tracker_pg}: {exc}")

    # the customer over REST ----------------------------------------------------

    def post_message(self, body: dict[str, Any], secret: str | None = None) -> tuple[Any, dict[str, str]]:
        """One POST to the REST channel: its answer and headers."""
        headers = {"Content-Type": "application/json", **({CONVERSATION_SECRET_HEADER: secret} if secret else {})}
        req = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook", data=json.dumps(body).encode(), headers=headers
        )
        with urllib.request.urlopen(req, timeout=60) as response:
            return json.loads(response.read() or b"null"), dict(response.headers)

    def say(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[str]:
        """``sender`` is the test's name for a customer: their first message
        starts a conversation (the channel picks its id and secret), the
        next ones continue it."""
        return [reply.get("text") or "" for reply in self.say_raw(sender, text, metadata)]

    def say_raw(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict]:
        body: dict[str, Any] = {"message": text, **({"metadata": metadata} if metadata else {})}
        known = self._conversations.get(sender)
        if known is None:
            replies, headers = self.post_message(body)
            self._conversations[sender] = (headers[CONVERSATION_ID_HEADER], headers[CONVERSATION_SECRET_HEADER])
        else:
            replies, _ = self.post_message({**body, "sender": known[0]}, known[1])
        return replies

    def conversation_id(self, sender: str) -> str:
        """The id the channel gave the customer ``sender`` (Rasa's sender id)."""
        return self._conversations[sender][0]

    def tracker(self, sender: str) -> dict:
        conversation_id = self._conversations.get(sender, (sender,))[0]
        segment = urllib.parse.quote(conversation_id, safe="")
        return request(
            f"{self.rasa_url}/conversations/{segment}/tracker",
            headers=rasa_api_headers(RASA_JWT_SECRET, conversation_id=segment),
        )

    def bot_events(self, sender: str) -> list[dict]:
        return [e for e in self.tracker(sender)["events"] if e.get("event") == "bot"]

    def signed_in_chat_link(self, username: str) -> str:
        """The web chat address of a customer the platform has logged in."""
        done = subprocess.run(
            [str(BOT_BIN / "python"), "-m", "bot.demo_link", "--username", username, "--base-url", self.handoff_url],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def ticket_status(self, number: str, sender: str) -> dict:
        """The status the bot is told when ``sender``'s conversation asks."""
        conversation_id = self._conversations.get(sender, (sender,))[0]
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", CONVERSATION_HEADER: header_value(conversation_id)}
        return request(f"{self.handoff_url}/api/v1/tickets/{number}/status", headers=headers)

    # an agent over the handoff API ---------------------------------------------

    def agent(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            login = request(f"{self.handoff_url}/api/v1/auth/login", {"username": username, "password": AGENT_PASSWORD})
            self._tokens[username] = login["token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def as_agent(self, username: str, method: str, path: str, body: Any = None) -> Any:
        return request(f"{self.handoff_url}/api/v1{path}", body, headers=self.agent(username), method=method)

    def transcript(self, username: str, number: str) -> list[tuple[str, str]]:
        ticket = self.as_agent(username, "GET", f"/tickets/{number}")
        return [(m["sender"], m["text"]) for m in ticket["transcript"]]
