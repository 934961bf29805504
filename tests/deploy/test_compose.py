"""docker-compose.yml against the code it deploys. No Docker engine runs
here, so what can drift is checked instead: every variable a service sets
is one its process reads, every variable its process needs is set, ports
and addresses agree between the services and the proxy, the proxy's
template and Rasa's endpoints file find all their variables, Rasa accepts
the command line, and the images copy files that exist. test_cluster.py
then runs each command as a local process.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from handoff.settings import load_settings
from stack.cluster import IMAGE_VENV, LOCAL_ADDRESSES, NGINX_TEMPLATE, SECRETS, compose, interpolate
from stack.live import ROOT

SPEC = compose()
SERVICES = SPEC["services"]
BOT_SOURCES = [
    ROOT / "bot" / "settings.py",
    ROOT / "actions" / "core" / "settings.py",
]  # one settings module per process
_READ = re.compile(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""")
_TEMPLATE_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
# settings Rasa itself reads from the environment (rasa/core/lock_store.py, telemetry)
RASA_OWN = {"TICKET_LOCK_LIFETIME", "RASA_TELEMETRY_ENABLED"}


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def read_by_bot() -> set[str]:
    return {name for path in BOT_SOURCES for name in _READ.findall(path.read_text(encoding="utf-8"))}


def read_by_handoff() -> set[str]:
    class Recording(dict):
        seen: set[str] = set()

        def get(self, key, default=None):
            self.seen.add(key)
            return super().get(key, default)

    recording = Recording({"HANDOFF_DEV_INSECURE": "1"})
    load_settings(recording)
    return recording.seen - {"HANDOFF_DEV_INSECURE"}


def command_vars(service: str) -> set[str]:
    return set(re.findall(r"\$([A-Z][A-Z0-9_]+)", " ".join(map(str, SERVICES[service]["command"]))))


def endpoints_vars() -> set[str]:
    return set(_TEMPLATE_VAR.findall((ROOT / "deploy" / "endpoints.cluster.yml").read_text(encoding="utf-8")))


def test_every_service_is_built_run_and_checked() -> None:
    assert set(SERVICES) == {
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "handoff",
        "rasa",
        "actions",
        "outbox",
        "proxy",
        "clamav",
    }
    for name, service in SERVICES.items():
        assert service.get("image"), name
        assert service.get("command") or name in {"postgres", "rabbitmq", "proxy", "clamav"}, name
        for dependency, how in (service.get("depends_on") or {}).items():
            if how["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (
                    f"{name} waits for {dependency}'s health, which is never checked"
                )
    assert SERVICES["handoff"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["restart"] == "no" and "deploy" not in SERVICES["migrate"]  # once, not once per replica
    assert all(SERVICES[s]["deploy"]["replicas"] >= 2 for s in ("rasa", "actions", "handoff"))
    named = set(SPEC["volumes"])
    used = {
        v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith((".", "$", "/"))
    }
    assert used == named


def test_no_secret_is_written_in_the_compose_file() -> None:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    secret_names = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$|_PASS$")
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif (
            isinstance(node, str)
            and secret_names.search(key)
            and not re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}|/[\w/.-]+", node)
            or isinstance(node, str)
            and "://" in node
            and "@" in node
            and not re.search(r"://[^:]+:\$\{[A-Z_]+\}@", node)
        ):
            found.append((key, node))

    walk(raw)
    assert found == []
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.M))
    assert variables - {"TLS_DIR"} <= documented and set(SECRETS) <= documented
    assert all(
        re.search(rf"^{name}=$", example, re.M) for name in SECRETS if name != "PUBLIC_URL"
    )  # empty, to be filled in
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", {})


@pytest.mark.parametrize("service", ["handoff", "migrate"])
def test_handoff_environment_matches_its_settings(service: str) -> None:
    declared = env(service)
    assert set(declared) <= read_by_handoff(), set(declared) - read_by_handoff()
    settings = load_settings(declared, require_secrets=service == "handoff")
    assert settings.database_url.startswith("postgresql://") and "@postgres:5432/" in settings.database_url
    if service == "handoff":
        assert (settings.host, settings.events_source, settings.live_bus, settings.cookie_secure) == (
            "0.0.0.0",
            "rabbitmq",
            "postgres",
            True,
        )
        assert (
            urlsplit(settings.rabbitmq_url).hostname == "rabbitmq"
            and settings.rabbitmq_queue == env("rasa")["RABBITMQ_QUEUE"]
        )
        health = " ".join(SERVICES[service]["healthcheck"]["test"])
        assert f"127.0.0.1:{settings.port}/healthz" in health


def test_rasa_environment_matches_its_endpoints_channels_and_command() -> None:
    declared = env("rasa")
    needed = endpoints_vars() | command_vars("rasa")
    assert needed <= set(declared), needed - set(declared)
    assert set(declared) <= needed | read_by_bot() | RASA_OWN, set(declared) - (needed | read_by_bot() | RASA_OWN)
    assert f"127.0.0.1:{declared['RASA_PORT']}/" in " ".join(SERVICES["rasa"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", ["actions", "outbox"])
def test_action_server_environment_matches_its_settings(service: str) -> None:
    declared = env(service)
    assert set(declared) <= read_by_bot() | command_vars(service), set(declared) - read_by_bot()
    assert {"HANDOFF_URL", "HANDOFF_SERVICE_TOKEN", "CUSTOMER_TOKEN_SECRET", "OUTBOX_URL"} <= set(declared)
    # every replica and the worker share one outbox: a table in PostgreSQL, not a file of their own
    assert declared["OUTBOX_URL"].startswith("postgresql://") and "@postgres:5432/" in declared["OUTBOX_URL"]
    assert "OUTBOX_PATH" not in declared and "volumes" not in SERVICES[service]
    assert SERVICES[service]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_addresses_and_ports_agree_with_the_proxy() -> None:
    proxy = env("proxy")
    template_vars = set(_TEMPLATE_VAR.findall(NGINX_TEMPLATE.read_text(encoding="utf-8")))
    assert template_vars == set(proxy), template_vars ^ set(proxy)

    def upstream(name: str) -> tuple[str, str]:
        found = re.fullmatch(r"server (\w+):(\d+);", proxy[name])
        assert found, proxy[name]
        return found.group(1), found.group(2)

    assert upstream("RASA_SERVERS") == ("rasa", env("rasa")["RASA_PORT"])
    assert upstream("ACTIONS_SERVERS") == ("actions", env("actions")["ACTIONS_PORT"])
    assert upstream("HANDOFF_SERVERS") == ("handoff", env("handoff")["HANDOFF_PORT"])
    for service, variable, port in (
        ("rasa", "ACTION_ENDPOINT_URL", "PROXY_ACTIONS_PORT"),
        ("handoff", "RASA_URL", "PROXY_RASA_PORT"),
        ("actions", "HANDOFF_URL", "PROXY_HANDOFF_PORT"),
        ("outbox", "HANDOFF_URL", "PROXY_HANDOFF_PORT"),
    ):
        parts = urlsplit(env(service)[variable])
        assert (parts.hostname, str(parts.port)) == ("proxy", proxy[port]), (service, variable)
    published = {p.split(":")[1] for p in SERVICES["proxy"]["ports"]}
    assert published == {proxy["PROXY_HTTP_PORT"], proxy["PROXY_HTTPS_PORT"]}  # internal listeners stay internal
    assert "/etc/nginx/templates/" in " ".join(SERVICES["proxy"]["volumes"])


def test_the_local_topology_changes_only_addresses() -> None:
    """stack/cluster.py may set differently only where things are."""
    from stack.cluster import ClusterStack

    stack = ClusterStack.__new__(ClusterStack)
    stack.spec, stack.tmp, stack.queue = SPEC, Path("/nonexistent"), "q"
    stack.handoff_db, stack.rasa_db, stack.pg_base = "h", "r", "postgresql://postgres@127.0.0.1:5432"
    stack.proxy_ports = {"http": 1, "https": 2, "rasa": 3, "actions": 4, "handoff": 5}
    for service in ("migrate", "handoff", "rasa", "actions", "outbox"):
        local = stack.environment(service, 1234)
        for name, value in env(service).items():
            assert local[name] == value or name in LOCAL_ADDRESSES, (service, name)
        assert stack.command(service) == [str(p) for p in SERVICES[service]["command"]]
        assert SERVICES[service]["image"] in IMAGE_VENV


def test_rasa_accepts_the_command_line() -> None:
    args = SERVICES["rasa"]["command"][-1].removeprefix("exec ")
    variables = {"RASA_JWT_SECRET": "x", "RASA_PORT": "5005"}
    argv = [re.sub(r'"\$([A-Z_]+)"', lambda m: variables[m.group(1)], a) for a in args.split()]
    assert argv[:2] == ["rasa", "run"]
    check = (
        "import sys; from rasa.__main__ import create_argument_parser; "
        "a = create_argument_parser().parse_args(sys.argv[1:]); "
        "print(a.endpoints, a.credentials, a.model, a.port, a.enable_api)"
    )
    done = subprocess.run(
        [str(IMAGE_VENV["triage-bot:latest"] / "python"), "-c", check, *argv[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    endpoints, credentials, model, port, api = done.stdout.split()
    assert (ROOT / endpoints).is_file() and (ROOT / credentials).is_file() and port == "5005" and api == "True"
    assert model == "models/triage.tar.gz"


@pytest.mark.parametrize("dockerfile", ["Dockerfile.bot", "Dockerfile.handoff"])
def test_images_copy_files_that_exist(dockerfile: str) -> None:
    text = (ROOT / "deploy" / dockerfile).read_text(encoding="utf-8")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile}: {source}"
    builds = {s["build"]["dockerfile"] for s in SERVICES.values() if "build" in s}
    assert f"deploy/{dockerfile}" in builds


def _networks(service: str) -> set[str]:
    return set(SERVICES[service].get("networks") or ["default"])


def test_the_action_server_is_reachable_only_from_rasa() -> None:
    """The action server trusts whatever tracker it is sent: nothing but
    Rasa may reach it (issue 16, finding 6)."""
    actions = SERVICES["actions"]
    assert "ports" not in actions and "expose" not in actions  # no published port
    assert _networks("actions") == {"actions"} and SPEC["networks"]["actions"]["internal"] is True
    on_its_network = {name for name in SERVICES if "actions" in _networks(name)}
    assert on_its_network == {"actions", "proxy", "postgres"}  # its way out: the handoff service, the outbox
    # the proxy's listener for it lets through only the header Rasa sends
    template = NGINX_TEMPLATE.read_text(encoding="utf-8")
    listener = template.split("listen ${PROXY_ACTIONS_PORT};", 1)[1].split("\nserver {", 1)[0]
    check = 'if ($http_authorization != "Bearer ${ACTION_SERVER_TOKEN}") {\n        return 403;'
    assert check in listener and listener.index(check) < listener.index("proxy_pass http://actions;")
    endpoints = yaml.safe_load((ROOT / "deploy" / "endpoints.cluster.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["headers"] == {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}
    holders = {name for name in SERVICES if "ACTION_SERVER_TOKEN" in env(name)}
    assert holders == {"rasa", "proxy"} and env("rasa")["ACTION_SERVER_TOKEN"] == env("proxy")["ACTION_SERVER_TOKEN"]


def test_rasa_api_takes_a_jwt_only() -> None:
    command = " ".join(SERVICES["rasa"]["command"])
    assert '--jwt-secret "$RASA_JWT_SECRET" --jwt-method HS256' in command and "--auth-token" not in command
    assert env("rasa")["RASA_JWT_SECRET"] == env("handoff")["RASA_JWT_SECRET"]


def test_the_panel_and_the_bot_trust_the_same_customer_token() -> None:
    assert env("handoff")["CUSTOMER_TOKEN_SECRET"] == env("actions")["CUSTOMER_TOKEN_SECRET"]


def test_rasa_sends_the_proxy_the_action_server_token() -> None:
    """Rasa itself reads the header from deploy/endpoints.cluster.yml with its environment."""
    check = (
        "from rasa.utils.endpoints import read_endpoint_config; "
        "e = read_endpoint_config('deploy/endpoints.cluster.yml', 'action_endpoint'); print(e.headers['Authorization'])"
    )
    done = subprocess.run(
        [str(IMAGE_VENV["triage-bot:latest"] / "python"), "-W", "ignore", "-c", check],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", **env("rasa")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"Bearer {env('proxy')['ACTION_SERVER_TOKEN']}"
