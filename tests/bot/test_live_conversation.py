"""The assistant as it runs: Rasa server, action server and the real handoff
service as separate processes, customers talking over Rasa's REST channel.

Proves, in Turkish and English, the path from a first message through the
age check, an FAQ answer that does not help and the triage questions to a
ticket in the agents' queue; that the bot is silent once the conversation
is handed off; that a ticket's status can be asked; and that the birth date
never reaches the tracker store.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT_BIN = Path(sys.executable).parent
HANDOFF_PY = ROOT / ".venv" / "handoff" / "bin" / "python"
MODEL = ROOT / "models" / "triage.tar.gz"
SERVICE_TOKEN = "live-test-service-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: Optional[dict] = None, headers: Optional[dict] = None, timeout: float = 60):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
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
            time.sleep(1)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


class Assistant:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.rasa_port, self.actions_port, self.handoff_port = _free_port(), _free_port(), _free_port()
        self.tracker_db = tmp / "tracker.db"
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "HANDOFF_URL": f"http://127.0.0.1:{self.handoff_port}",
            "HANDOFF_PORT": str(self.handoff_port),
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "HANDOFF_SECRET_KEY": "live-test-secret-key-0123456789abcdef",
            "DEMO_AGENT_PASSWORD": "live-test-password",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'handoff.db'}",
            "OUTBOX_PATH": str(tmp / "outbox.db"),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
        }

    def _start(self, name: str, args: list[str], health: str) -> None:
        log = self.tmp / f"{name}.log"
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.processes.append(process)
        _wait_until_up(health, process, log)

    def start(self) -> None:
        endpoints = self.tmp / "endpoints.yml"
        endpoints.write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            f"tracker_store:\n  type: bot.tracker_store.RedactingSQLTrackerStore\n"
            f"  dialect: sqlite\n  db: {self.tracker_db}\n"
        )
        subprocess.run([str(HANDOFF_PY), "-m", "handoff", "bootstrap"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)
        self._start("handoff", [str(HANDOFF_PY), "-m", "handoff", "serve"],
                    f"http://127.0.0.1:{self.handoff_port}/api/v1/openapi.json")
        self._start("actions", [str(BOT_BIN / "rasa"), "run", "actions", "--actions", "actions",
                                "--port", str(self.actions_port)], f"http://127.0.0.1:{self.actions_port}/health")
        self._start("rasa", [str(BOT_BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", str(endpoints),
                             "--port", str(self.rasa_port), "--credentials", str(ROOT / "credentials.yml")],
                    f"http://127.0.0.1:{self.rasa_port}/")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def say(self, sender: str, text: str) -> list[str]:
        replies = _request(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
                           {"sender": sender, "message": text})
        return [reply.get("text") or "" for reply in replies]

    def ticket_status(self, number: str) -> dict:
        return _request(f"http://127.0.0.1:{self.handoff_port}/api/v1/tickets/{number}/status",
                        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[Assistant]:
    running = Assistant(tmp_path_factory.mktemp("live"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _ticket_number(replies: list[str]) -> str:
    import re

    found = re.search(r"T-\d{6}", " ".join(replies))
    assert found, replies
    return found.group(0)


def test_turkish_customer_to_the_queue(assistant: Assistant) -> None:
    sender = "live-tr"
    first = " ".join(assistant.say(sender, "merhaba, dün yaptığım para çekme hala hesabıma gelmedi"))
    assert first.startswith("Merhaba!") and "Doğum tarihiniz" in first  # greeted, then the age question
    answer = " ".join(assistant.say(sender, "17.08.1985"))
    assert "çözdü mü" in answer  # the FAQ answer came, then "did that solve it?"
    assert "kullanıcı adınız" in " ".join(assistant.say(sender, "hayır"))  # topic, type and date already known
    yesterday = datetime.now(ZoneInfo("Europe/Istanbul")).date() - timedelta(days=1)
    summary = " ".join(assistant.say(sender, "ayse_k"))
    assert "Para çekme" in summary and yesterday.strftime("%d.%m.%Y") in summary
    corrected = " ".join(assistant.say(sender, "hayır tarih yanlış, 12'siydi"))
    assert "Tarih: 12." in corrected
    replies = assistant.say(sender, "evet")
    number = _ticket_number(replies)
    status = assistant.ticket_status(number)
    assert status["status"] == "queued" and status["department"] == "finance"
    assert assistant.say(sender, "merhaba? orada mısınız") == []  # handed off: the bot is silent
    with sqlite3.connect(assistant.tracker_db) as conn:
        stored = " ".join(row[0] for row in conn.execute("SELECT data FROM events"))
    assert "17.08.1985" not in stored
    assert "ayse_k" in stored


def test_english_customer_to_the_queue_and_a_status_question(assistant: Assistant) -> None:
    sender = "live-en"
    assert "date of birth" in " ".join(assistant.say(sender, "hello"))
    assert "How can I help" in " ".join(assistant.say(sender, "May 4, 1990"))
    assert "What is your problem about" in " ".join(assistant.say(sender, "I want to talk to a human agent"))
    # "withdrawl" answers the topic and names the transaction type too
    assert "When did" in " ".join(assistant.say(sender, "withdrawl"))
    assert "username" in " ".join(assistant.say(sender, "last friday"))
    assert "Is this correct" in " ".join(assistant.say(sender, "john_doe99"))
    number = _ticket_number(assistant.say(sender, "yes"))
    other = "live-en-2"
    assistant.say(other, "hi")
    assistant.say(other, "1990-05-04")
    assert number in " ".join(assistant.say(other, f"what is the status of my ticket {number}"))


def test_under_18_gets_a_polite_refusal_and_no_ticket(assistant: Assistant) -> None:
    sender = "live-minor"
    assistant.say(sender, "selam")
    refusal = " ".join(assistant.say(sender, "12.03.2012"))
    assert "18 yaşından büyükler" in refusal
    assert "18 yaşından büyükler" in " ".join(assistant.say(sender, "müşteri temsilcisi istiyorum"))
