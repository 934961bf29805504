"""handoff/settings.py: one definition per setting, read in one place."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from handoff.app import create_app
from handoff.services.channel import RecordingChannel
from handoff.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    child_environment,
    dev_secrets_warning,
    load_settings,
    setting_fields,
)
from support_rules.limits import MAX_MESSAGE_CHARS
from tests.handoff.conftest import StartApp
from tests.handoff.factories import summary
from tests.handoff.helpers import bot_headers, make_settings

HANDOFF_DOC = (REPO_ROOT / "docs" / "HANDOFF.md").read_text(encoding="utf-8")
_ENVIRONMENT = re.compile(r"\bos\.environ\b|\bgetenv\b|\benviron\.get\b")


def test_the_loaded_defaults_are_the_declared_ones() -> None:
    assert load_settings({}, require_secrets=False) == Settings()


def test_every_setting_has_one_variable_and_is_documented() -> None:
    names = [f.metadata["env"] for f in setting_fields()]
    assert len(names) == len(set(names))
    assert all(f.metadata["doc"] for f in setting_fields())
    undocumented = [name for name in names if f"`{name}`" not in HANDOFF_DOC]
    assert undocumented == []


def test_the_limits_can_be_set() -> None:
    defaults = Settings()
    assert (defaults.max_body_bytes, defaults.max_message_chars, defaults.max_message_bytes) == (
        64 * 1024,
        MAX_MESSAGE_CHARS,
        4 * MAX_MESSAGE_CHARS,
    )
    env = {"HANDOFF_MAX_BODY_BYTES": "2048", "HANDOFF_MAX_MESSAGE_CHARS": "500", "HANDOFF_MAX_MESSAGE_BYTES": "1000"}
    loaded = load_settings(env, require_secrets=False)
    assert (loaded.max_body_bytes, loaded.max_message_chars, loaded.max_message_bytes) == (2048, 500, 1000)
    for name in env:
        for bad in ("0", "-1", "lots"):
            with pytest.raises(SettingsError, match=name):
                load_settings({name: bad}, require_secrets=False)


def test_values_are_read_by_their_type() -> None:
    env = {
        "HANDOFF_PORT": "9090",
        "HANDOFF_RASA_TIMEOUT": "2.5",
        "HANDOFF_COOKIE_SECURE": "yes",
        "RASA_URL": "http://rasa:5005/",
        "HANDOFF_REPO_ROOT": "/srv/desk",
        "HANDOFF_NOTICES": "/etc/notices.yml",
    }
    loaded = load_settings(env, require_secrets=False)
    assert (loaded.port, loaded.rasa_timeout_seconds, loaded.cookie_secure, loaded.rasa_url) == (
        9090,
        2.5,
        True,
        "http://rasa:5005",
    )
    assert loaded.catalogue_path == Path("/srv/desk/data/catalogue.yml")  # under the root unless set
    assert loaded.notices_path == Path("/etc/notices.yml")
    with pytest.raises(SettingsError, match="HANDOFF_PORT"):
        load_settings({"HANDOFF_PORT": "eighty"}, require_secrets=False)


def test_secrets_are_required_and_kept_out_of_repr() -> None:
    with pytest.raises(SettingsError, match="HANDOFF_SERVICE_TOKEN"):
        load_settings({})
    loaded = load_settings({"HANDOFF_SERVICE_TOKEN": "tok-123", "HANDOFF_SECRET_KEY": "key-456"})
    assert (loaded.service_token, loaded.secret_key) == ("tok-123", "key-456")
    assert "tok-123" not in repr(loaded) and "key-456" not in repr(loaded)
    dev = load_settings({"HANDOFF_DEV_INSECURE": "1"})
    assert dev.dev_insecure and dev.service_token and dev.secret_key


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / "handoff").rglob("*.py"))
        if path.name != "settings.py" and _ENVIRONMENT.search(path.read_text(encoding="utf-8"))
    ]
    assert readers == []


async def test_a_lower_body_limit_is_applied(db_url: str, start_app: StartApp) -> None:
    app = create_app(
        make_settings(db_url, max_body_bytes=2048), channel=RecordingChannel(), name=f"limits_{uuid.uuid4().hex[:8]}"
    )
    base_url = (await start_app(app)).base_url
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        body = json.dumps(summary(description="x" * 3000))
        res = await client.post("/api/v1/handoffs", content=body, headers=bot_headers("big"))
    assert res.status_code == 413 and res.json()["error"]["code"] == "payload_too_large"


def test_dev_insecure_makes_up_random_secrets_for_each_start() -> None:
    """HANDOFF_DEV_INSECURE=1 never falls back to a value written in the
    repository: each load draws new ones; secrets that are set are kept."""
    first, second = load_settings({"HANDOFF_DEV_INSECURE": "1"}), load_settings({"HANDOFF_DEV_INSECURE": "1"})
    drawn = [first.service_token, first.secret_key, second.service_token, second.secret_key]
    assert len(set(drawn)) == 4 and all(len(value) >= 32 for value in drawn)
    kept = load_settings({"HANDOFF_DEV_INSECURE": "1", "HANDOFF_SERVICE_TOKEN": "mine"})
    assert kept.service_token == "mine" and kept.secret_key not in {"mine", first.secret_key}
    assert (
        dev_secrets_warning({"HANDOFF_DEV_INSECURE": "1", "HANDOFF_SERVICE_TOKEN": "a", "HANDOFF_SECRET_KEY": "b"})
        is None
    )
    assert dev_secrets_warning({}) is None


def test_proxy_and_origin_settings_are_checked() -> None:
    loaded = load_settings(
        {
            "HANDOFF_TRUSTED_PROXIES": "10.0.0.0/8, ::1,",
            "HANDOFF_PROXIES_COUNT": "1",
            "HANDOFF_ALLOWED_ORIGINS": "https://Support.example.com/, http://127.0.0.1:8080",
        },
        require_secrets=False,
    )
    assert loaded.trusted_proxies == ("10.0.0.0/8", "::1/128") and loaded.proxies_count == 1
    assert loaded.allowed_origins == ("https://support.example.com", "http://127.0.0.1:8080")
    for env, name in (
        ({"HANDOFF_TRUSTED_PROXIES": "proxy.local"}, "HANDOFF_TRUSTED_PROXIES"),
        ({"HANDOFF_PROXIES_COUNT": "1"}, "HANDOFF_TRUSTED_PROXIES"),  # whose header, then?
        ({"HANDOFF_REAL_IP_HEADER": "X-Real-IP"}, "HANDOFF_TRUSTED_PROXIES"),
        ({"HANDOFF_ALLOWED_ORIGINS": "https://support.example.com/console"}, "HANDOFF_ALLOWED_ORIGINS"),
        ({"HANDOFF_ALLOWED_ORIGINS": "support.example.com"}, "HANDOFF_ALLOWED_ORIGINS"),
        ({"HANDOFF_PASSWORD_THREADS": "0"}, "HANDOFF_PASSWORD_THREADS"),
    ):
        with pytest.raises(SettingsError, match=name):
            load_settings(env, require_secrets=False)


def test_child_processes_get_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_SECRET_KEY", "s3cret-key")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db/handoff")
    monkeypatch.setenv("RASA_JWT_SECRET", "jwt-s3cret")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = child_environment({"GIT_INDEX_FILE": "/tmp/index"})
    assert env["PATH"] == "/usr/bin:/bin" and env["GIT_INDEX_FILE"] == "/tmp/index"
    assert not {"HANDOFF_SECRET_KEY", "DATABASE_URL", "RASA_JWT_SECRET"} & set(env)
    assert "s3cret" not in " ".join(env.values())
