"""What `make run` starts (the Procfile under the Makefile's settings)
listens on this machine only: the action server has no authentication and
posts handoffs with the service token, so nobody else on the network may
reach it, and Rasa stays local unless RASA_HOST opens it (issue 16,
finding 6)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path

from stack.live import ROOT, free_port, wait_until_up

BOT_PY = ROOT / ".venv" / "bot" / "bin" / "python"


def make_value(tmp_path: Path, name: str, **overrides: str) -> str:
    """A variable as the Makefile sets it for its recipes (honcho's environment)."""
    args = ["make", "-s", "--no-print-directory", f"ENV_FILE={tmp_path / 'env'}"]
    args += [f"{k}={v}" for k, v in overrides.items()]
    args += ["--eval", "print-%: ; @echo $($*)", f"print-{name}"]
    env = {k: v for k, v in os.environ.items() if k not in {"RASA_HOST", "ACTIONS_HOST", "MAKEFLAGS"}}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in the Procfile")


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_defaults_are_this_machine_only(tmp_path: Path) -> None:
    assert make_value(tmp_path, "RASA_HOST") == "127.0.0.1"
    assert make_value(tmp_path, "ACTIONS_HOST") == "127.0.0.1"
    assert make_value(tmp_path, "RASA_HOST", RASA_HOST="0.0.0.0") == "0.0.0.0"  # the setting that opens it


def test_the_action_server_of_make_run_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ACTIONS_HOST": make_value(tmp_path, "ACTIONS_HOST"),
        "ACTIONS_PORT": str(port),
        "RASA_TELEMETRY_ENABLED": "false",
        "OUTBOX_PATH": str(tmp_path / "outbox.db"),
    }
    env.pop("SANIC_HOST", None)
    log = tmp_path / "actions.log"
    process = subprocess.Popen(
        ["sh", "-c", f"exec env {procfile_line('actions')}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log, seconds=120)
        time.sleep(0.5)  # every worker bound
        assert listening_addresses(port) == {"0100007F"}, log.read_text()[-2000:]  # 127.0.0.1, nothing else
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_rasa_of_make_run_is_given_the_loopback_interface(tmp_path: Path) -> None:
    variables = {
        "RASA_HOST": make_value(tmp_path, "RASA_HOST"),
        "RASA_PORT": "5005",
        "HANDOFF_PORT": "8080",
        "RASA_ENDPOINTS": "endpoints.yml",
        "RASA_JWT_SECRET": "x",
    }
    line = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], procfile_line("rasa"))
    argv = shlex.split(line)
    assert Path(argv[0]).name == "rasa" and argv[1] == "run"
    check = (
        "import sys; from rasa.__main__ import create_argument_parser; "
        "a = create_argument_parser().parse_args(sys.argv[1:]); print(a.interface, a.jwt_secret, a.auth_token)"
    )
    done = subprocess.run([str(BOT_PY), "-c", check, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["127.0.0.1", "x", "None"]
