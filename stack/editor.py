"""The editors' loop against the real processes (stack/live.py): a copy of
the project for the editor to change, the settings that point the handoff
service at it, and the loop's steps over the API. The editors' browser test
and ``make bench-editor`` share them.

The customer's line: a Turkish question about a prize draw that the bot
answers with the withdrawal-limits FAQ; the customer says it did not help,
so the line reaches the review inbox (``faq_not_solved``). The editor
assigns it to the promotions FAQ; after a training and a publish, a new
customer writing the same line gets the promotions answer.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from stack.live import BOT_BIN, MODEL, ROOT, LiveStack, request, wait_for

__all__ = [
    "MISUNDERSTOOD",
    "WRONG_FAQ",
    "RIGHT_FAQ",
    "RIGHT_ANSWER_START",
    "EDITOR",
    "project_copy",
    "editor_env",
    "misunderstood_turn",
    "EditorClient",
]

MISUNDERSTOOD = "çekiliş sonuçları ne zaman açıklanacak"
WRONG_FAQ = "faq/withdrawal_limits"
RIGHT_FAQ = "promotion_terms"
# the first words of utter_faq/promotion_terms in Turkish (data/faq/responses.yml)
RIGHT_ANSWER_START = "Her bonusun çevrim şartı"
EDITOR = "demo_editor"
_PARTS = ("domain", "data", "config.yml", "tests/nlu", "actions", "credentials.yml")


def project_copy(tmp: Path) -> Path:
    """What a training reads and an editor changes, copied from this checkout."""
    project = tmp / "project"
    for part in _PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, project / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (project / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / part)
    return project


def editor_env(tmp: Path, project: Path) -> dict[str, str]:
    return {
        "HANDOFF_EDITOR_PROJECT": str(project),
        "HANDOFF_EDITOR_BOT_PYTHON": str(BOT_BIN / "python"),
        "HANDOFF_EDITOR_MODELS": str(tmp / "editor-models"),
        "HANDOFF_EDITOR_LIVE_MODEL": str(MODEL),
        "HANDOFF_METRICS_TOKEN": "live-test-metrics-token-0123456789",
    }


def misunderstood_turn(stack: LiveStack, sender: str) -> list[str]:
    """A customer past the age check asks the line, gets the wrong FAQ and
    says it did not help; the bot's replies to the line."""
    stack.say(sender, "merhaba")
    stack.say(sender, "04.05.1990")
    replies = stack.say(sender, MISUNDERSTOOD)
    stack.say(sender, "hayır")
    return replies


def answers_to(stack: LiveStack, sender: str, text: str) -> list[str]:
    stack.say(sender, "merhaba")
    stack.say(sender, "04.05.1990")
    return stack.say(sender, text)


class EditorClient:
    """The editor's API calls (bearer token, as an API client)."""

    def __init__(self, stack: LiveStack, username: str = EDITOR) -> None:
        self.stack = stack
        self.username = username

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.stack.as_agent(self.username, method, f"/editor{path}", body)

    def inbox_item(self, text: str, seconds: float = 30) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for group in self.call("GET", "/inbox")["groups"]:
                for item in group["items"]:
                    if item["text"] == text:
                        return item
            return None

        return wait_for(find, seconds=seconds)

    def train_until_ready(self, seconds: float = 240) -> dict[str, Any]:
        started = self.call("POST", "/train")["model"]

        def ready() -> dict[str, Any] | None:
            for model in self.call("GET", "/models")["models"]:
                if model["id"] == started["id"] and model["status"] in ("ready", "failed"):
                    return model
            return None

        return wait_for(ready, seconds=seconds, interval=0.5)


def new_customer_gets(stack: LiveStack, sender: str, text: str, fragment: str, seconds: float = 60) -> float:
    """Seconds until a new customer writing ``text`` gets a reply containing
    ``fragment``."""
    start = time.monotonic()
    attempt = 0

    def answered() -> bool:
        nonlocal attempt
        attempt += 1
        return any(fragment in reply for reply in answers_to(stack, f"{sender}-{attempt}", text))

    wait_for(answered, seconds=seconds, interval=0.2)
    return time.monotonic() - start


def rasa_status(stack: LiveStack) -> dict[str, Any]:
    from stack.live import RASA_JWT_SECRET
    from support_rules.rasa_auth import rasa_api_headers

    return request(f"{stack.rasa_url}/status", headers=rasa_api_headers(RASA_JWT_SECRET))
