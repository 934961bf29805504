"""The deployment of docker-compose.yml as local processes, for tests.

Every service's command and environment are read from docker-compose.yml
and run here as they would run in their containers, on 127.0.0.1: the
commands unchanged (the project's virtual environments first on PATH), the
environments unchanged but for where things are (``LOCAL_ADDRESSES``: the
engines of this machine, free ports, this run's own databases, queue and
channels). Engines are this machine's PostgreSQL, Redis and RabbitMQ; the
proxy is nginx from Debian's package (``make deploy-setup`` unpacks it into
build/nginx), configured from deploy/nginx/triage.conf.template.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stack.live import PG_URL, ROOT, free_port

__all__ = ["ClusterStack", "compose", "interpolate", "NGINX", "LOCAL_ADDRESSES", "IMAGE_VENV"]

COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "triage.conf.template"
NGINX = ROOT / "build" / "nginx" / "usr" / "sbin" / "nginx"
# the virtual environment that stands for each image
IMAGE_VENV = {
    "triage-bot:latest": ROOT / ".venv" / "bot" / "bin",
    "triage-handoff:latest": ROOT / ".venv" / "handoff" / "bin",
}
# The settings that say where things are: the only ones the local processes
# set differently from docker-compose.yml (filled in by ClusterStack).
LOCAL_ADDRESSES = {
    "DATABASE_URL",
    "TRACKER_DB_HOST",
    "TRACKER_DB_NAME",
    "TRACKER_DB_USER",
    "TRACKER_DB_PASSWORD",
    "REDIS_HOST",
    "REDIS_PORT",
    "SOCKETIO_REDIS_URL",
    "SOCKETIO_REDIS_CHANNEL",
    "RABBITMQ_HOST",
    "RABBITMQ_USERNAME",
    "RABBITMQ_PASSWORD",
    "RABBITMQ_URL",
    "RABBITMQ_QUEUE",
    "HANDOFF_HOST",
    "HANDOFF_PORT",
    "RASA_PORT",
    "ACTIONS_PORT",
    "HANDOFF_URL",
    "RASA_URL",
    "ACTION_ENDPOINT_URL",
    "RASA_PUBLIC_URL",
    "WEBCHAT_ORIGINS",
    "OUTBOX_URL",
    "HANDOFF_LIVE_CHANNEL",
    "HANDOFF_COOKIE_SECURE",
    "HANDOFF_ALLOWED_ORIGINS",
    "HANDOFF_CLAMD_ADDRESS",
    "HANDOFF_SMTP_LISTEN",
    "HANDOFF_MAIL_RELAY",
    "HANDOFF_EDITOR_PROJECT",
}
SECRETS = {
    "POSTGRES_PASSWORD": "cluster-test-postgres",
    "RABBITMQ_PASSWORD": "cluster-test-rabbitmq",
    "HANDOFF_SERVICE_TOKEN": "cluster-test-service-token-0123456789",
    "HANDOFF_SECRET_KEY": "cluster-test-secret-key-0123456789",
    "RASA_JWT_SECRET": "cluster-test-rasa-jwt-secret-0123456789",
    "ACTION_SERVER_TOKEN": "cluster-test-action-server-token-0123456789",
    "HANDOFF_FORWARDED_SECRET": "cluster-test-forwarded-secret-0123456789",
    "CUSTOMER_TOKEN_SECRET": "cluster-test-customer-token-secret-0123456789",
    "CONVERSATION_SECRET_KEY": "cluster-test-conversation-secret-key-0123456789",
    "HANDOFF_METRICS_TOKEN": "cluster-test-metrics-token-0123456789",
    "PUBLIC_URL": "https://support.example.com",
}

# the deployment's other values (deploy/env.example's examples)
EXAMPLE_VALUES = {"SUPPORT_MAIL_ADDRESS": "support@example.com", "MAIL_RELAY_URL": "smtp://mail.example.com:587"}

_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` (and ``$$``)."""

    def one(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(0)[len(match.group(1)) + 2 : -1]
        if name in variables and (variables[name] or not spec.startswith(":")):
            return variables[name]
        if spec.startswith((":-", "-")):
            return spec.split("-", 1)[1]
        if spec.startswith((":?", "?")):
            raise KeyError(f"{name}: {spec.split('?', 1)[1]}")
        return ""

    return _VARIABLE.sub(one, value).replace("$$", "$")


def compose(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml with the project's variables filled in."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    values = {**SECRETS, **EXAMPLE_VALUES, **(variables or {})}

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, values)
        if isinstance(node, list):
            return [walk(n) for n in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if not str(k).startswith("x-")}
        return node

    return walk(raw)


def _http_up(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Process:
    service: str
    replica: int
    port: int | None
    popen: subprocess.Popen
    log: Path

    @property
    def name(self) -> str:
        return f"{self.service}-{self.replica}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class ClusterStack:
    tmp: Path
    replicas: dict[str, int] = field(default_factory=lambda: {"rasa": 2, "actions": 2, "handoff": 2, "outbox": 1})
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        run = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.handoff_db, self.rasa_db = f"cluster_{run}_handoff", f"cluster_{run}_rasa"
        self.queue = f"cluster_events_{run}"
        self.proxy_ports = {
            "http": free_port(),
            "https": free_port(),
            "rasa": free_port(),
            "actions": free_port(),
            "handoff": free_port(),
        }
        self.spec = compose()
        self.pg_base = PG_URL.rsplit("/", 1)[0]

    # where things are ---------------------------------------------------------

    def local_addresses(self, service: str, port: int | None) -> dict[str, str]:
        proxy = "http://127.0.0.1"
        return {
            "DATABASE_URL": f"{self.pg_base}/{self.handoff_db}",
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_NAME": self.rasa_db,
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/2",
            "SOCKETIO_REDIS_CHANNEL": f"socketio_{self.queue}",
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_USERNAME": "guest",
            "RABBITMQ_PASSWORD": "guest",
            "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
            "RABBITMQ_QUEUE": self.queue,
            "HANDOFF_HOST": "127.0.0.1",
            "HANDOFF_PORT": str(port),
            "RASA_PORT": str(port),
            "ACTIONS_PORT": str(port),
            "HANDOFF_URL": f"{proxy}:{self.proxy_ports['handoff']}",
            "RASA_URL": f"{proxy}:{self.proxy_ports['rasa']}",
            "ACTION_ENDPOINT_URL": f"{proxy}:{self.proxy_ports['actions']}/webhook",
            "RASA_PUBLIC_URL": f"https://127.0.0.1:{self.proxy_ports['https']}",
            "WEBCHAT_ORIGINS": "",  # the test's clients send no Origin header
            "OUTBOX_URL": f"{self.pg_base}/{self.rasa_db}",
            # each replica's own SMTP port; the desk's mail written as files
            "HANDOFF_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
            "HANDOFF_MAIL_RELAY": str(self.tmp / "mail-outbox"),
            "HANDOFF_LIVE_CHANNEL": f"live_{self.queue}",
            "HANDOFF_COOKIE_SECURE": "",  # the test's agents use bearer tokens over plain HTTP
            "HANDOFF_ALLOWED_ORIGINS": f"https://127.0.0.1:{self.proxy_ports['https']}",
            # compose's clamav service is not run here (tests/handoff/test_documents_clamd.py
            # runs a real clamd): no scanner
            "HANDOFF_CLAMD_ADDRESS": "",
            # the image's copy of the project is this checkout (patch mode: never written)
            "HANDOFF_EDITOR_PROJECT": str(ROOT),
        }

    def environment(self, service: str, port: int | None = None) -> dict[str, str]:
        declared = {k: str(v) for k, v in (self.spec["services"][service].get("environment") or {}).items()}
        local = self.local_addresses(service, port)
        env = {
            **declared,
            **{
                k: v
                for k, v in local.items()
                if k in declared or k in {"SOCKETIO_REDIS_CHANNEL", "HANDOFF_LIVE_CHANNEL"}
            },
        }
        image = self.spec["services"][service]["image"]
        return {
            **{k: v for k, v in os.environ.items() if k in {"HOME", "LANG", "LC_ALL", "TMPDIR"}},
            "PATH": f"{IMAGE_VENV[image]}:/usr/bin:/bin",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            **env,
        }

    def command(self, service: str) -> list[str]:
        return [str(part) for part in self.spec["services"][service]["command"]]

    # engines ------------------------------------------------------------------

    async def _databases(self, create: bool) -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_URL)
        try:
            for name in (self.handoff_db, self.rasa_db):
                if create:
                    await conn.execute(f'CREATE DATABASE "{name}"')
                else:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def _drop_queue(self) -> None:
        import aio_pika

        connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(self.queue)

    # processes ----------------------------------------------------------------

    def spawn(self, service: str, replica: int = 0) -> Process:
        port = free_port() if service in {"rasa", "actions", "handoff"} else None
        log = self.tmp / f"{service}-{replica}.log"
        popen = subprocess.Popen(
            self.command(service),
            cwd=ROOT,
            env=self.environment(service, port),
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(service, replica, port, popen, log)
        self.processes[process.name] = process
        return process

    def health_url(self, process: Process) -> str:
        return {"rasa": "/", "actions": "/health", "handoff": "/healthz"}[process.service].join([process.url, ""])

    async def wait_up(self, process: Process, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited:\n{process.log.read_text()[-3000:]}")
            if await asyncio.to_thread(_http_up, self.health_url(process)):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{process.name} did not come up:\n{process.log.read_text()[-3000:]}")

    def proxy_config(self) -> str:
        def servers(service: str) -> str:
            return " ".join(
                f"server {p.url[7:]} max_fails=1 fail_timeout=10s;"
                for p in self.processes.values()
                if p.service == service
            )

        spec = {k: str(v) for k, v in self.spec["services"]["proxy"]["environment"].items()}
        values = {
            **spec,
            "RASA_SERVERS": servers("rasa"),
            "ACTIONS_SERVERS": servers("actions"),
            "HANDOFF_SERVERS": servers("handoff"),
            "PROXY_HTTP_PORT": str(self.proxy_ports["http"]),
            "PROXY_HTTPS_PORT": str(self.proxy_ports["https"]),
            "PROXY_RASA_PORT": str(self.proxy_ports["rasa"]),
            "PROXY_ACTIONS_PORT": str(self.proxy_ports["actions"]),
            "PROXY_HANDOFF_PORT": str(self.proxy_ports["handoff"]),
            "TLS_CERT": str(self.tmp / "tls" / "fullchain.pem"),
            "TLS_KEY": str(self.tmp / "tls" / "privkey.pem"),
        }
        # nginx's image runs envsubst on the names its environment defines
        body = re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: values.get(m.group(1), m.group(0)), NGINX_TEMPLATE.read_text())
        temp = self.tmp / "nginx"
        return (
            f"worker_processes 1;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n access_log off;\n client_body_temp_path {temp}/body;\n proxy_temp_path {temp}/proxy;\n"
            f" proxy_max_temp_file_size 0;\n fastcgi_temp_path {temp}/fastcgi;\n uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n"
            f"{body}\n}}\n"
        )

    async def start_proxy(self) -> None:
        (self.tmp / "nginx").mkdir(exist_ok=True)
        (self.tmp / "tls").mkdir(exist_ok=True)
        shutil.copy(ROOT / "deploy" / "tls" / "make-self-signed.sh", self.tmp / "tls")
        subprocess.run(
            ["sh", str(self.tmp / "tls" / "make-self-signed.sh"), "localhost"], check=True, capture_output=True
        )
        conf = self.tmp / "nginx" / "nginx.conf"
        conf.write_text(self.proxy_config())
        # nginx with this stack's prefix, error log and configuration
        nginx = [
            str(NGINX),
            "-p",
            str(self.tmp / "nginx"),
            "-e",
            str(self.tmp / "nginx" / "error.log"),
            "-c",
            str(conf),
        ]
        subprocess.run([*nginx, "-t", "-q"], check=True)  # the configuration is valid
        log = self.tmp / "proxy.log"
        popen = subprocess.Popen(
            [*nginx, "-g", "daemon off;"],
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes["proxy-0"] = Process("proxy", 0, self.proxy_ports["handoff"], popen, log)
        deadline = time.monotonic() + 20
        while not await asyncio.to_thread(_http_up, f"http://127.0.0.1:{self.proxy_ports['handoff']}/healthz"):
            if time.monotonic() > deadline or popen.poll() is not None:
                raise RuntimeError("nginx did not come up:\n" + (self.tmp / "nginx" / "error.log").read_text()[-2000:])
            await asyncio.sleep(0.2)

    async def start(self) -> None:
        """The order of docker-compose.yml's health-based start: migrate
        once, then every replica (Rasa's first alone: it creates the tracker
        tables), then the proxy in front of them."""
        await self._databases(create=True)
        migrate = subprocess.run(
            self.command("migrate"), cwd=ROOT, env=self.environment("migrate"), capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        first = self.spawn("rasa", 0)
        others = [self.spawn(s, i) for s in ("actions", "handoff") for i in range(self.replicas[s])]
        others += [self.spawn("outbox", i) for i in range(self.replicas["outbox"])]
        await self.wait_up(first)
        others += [self.spawn("rasa", i) for i in range(1, self.replicas["rasa"])]
        await asyncio.gather(*(self.wait_up(p) for p in others if p.port is not None))
        await self.start_proxy()

    def kill(self, name: str) -> None:
        """SIGKILL: the replica vanishes without finishing anything."""
        process = self.processes.pop(name)
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=30)

    async def stop(self) -> None:
        for process in self.processes.values():
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
        self.processes.clear()
        if os.environ.get("CLUSTER_KEEP_DATABASES"):  # to read a failed run's trackers and tickets
            print(f"\n[cluster] databases kept: {self.handoff_db}, {self.rasa_db}; logs in {self.tmp}", flush=True)
        else:
            await self._databases(create=False)
        await self._drop_queue()

    def urls(self, service: str) -> list[str]:
        return [p.url for p in self.processes.values() if p.service == service]
