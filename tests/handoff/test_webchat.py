"""The customer web chat page as served by the handoff service: files,
config endpoint, the socket.io client from npm, security headers, settings.
The page itself runs in Chromium in test_webchat_browser.py."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from handoff.api.webchat import WEBCHAT_DIR
from handoff.app import create_app
from handoff.settings import REPO_ROOT, Settings, SettingsError, load_settings
from support_rules.catalogue import load_catalogue
from support_rules.prechat import PRECHAT_LIMITS
from tests.handoff.conftest import StartApp
from tests.handoff.helpers import make_settings

WebchatClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def webchat_client(start_app: StartApp) -> WebchatClient:
    """``webchat_client(tmp_path, **settings)``: a client of the handoff service
    with those web chat settings; no database is touched by these routes."""

    @asynccontextmanager
    async def open_client(tmp_path: Path, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", **overrides)
        running = await start_app(create_app(settings, name=f"webchat_{uuid.uuid4().hex[:8]}"))
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            yield client

    return open_client


@pytest.fixture
def vendor_file(tmp_path: Path) -> Path:
    path = tmp_path / "socket.io.min.js"
    path.write_text("/* stand-in for socket.io-client's dist file */ window.io = function () {};\n")
    return path


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.inline_handlers += [name for name, _ in attrs if name.startswith("on")]


async def test_page_is_served_with_a_strict_policy(
    tmp_path: Path, vendor_file: Path, webchat_client: WebchatClient
) -> None:
    async with webchat_client(
        tmp_path, rasa_public_url="http://rasa.example:5005", webchat_vendor_path=vendor_file
    ) as client:
        res = await client.get("/chat/")
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/html")
        assert res.headers["x-content-type-options"] == "nosniff"
        csp = dict(part.strip().split(" ", 1) for part in res.headers["content-security-policy"].split(";"))
        assert csp["script-src"] == "'self'"
        assert csp["default-src"] == "'self'"
        assert csp["connect-src"].split() == ["'self'", "http://rasa.example:5005", "ws://rasa.example:5005"]
        assert "unsafe" not in res.headers["content-security-policy"]
        # no inline script anywhere: every script has a same-origin src, no on* attributes
        parser = _Scripts()
        parser.feed(res.text)
        assert [s.get("src") for s in parser.scripts] == [
            "/chat/vendor/socket.io.min.js",
            "/chat/documents_i18n.js",
            "/chat/i18n.js",
            "/chat/chat.js",
            "/chat/attach.js",
        ]
        assert parser.inline_handlers == []
        assert 'name="viewport"' in res.text

        for name, mime in [
            ("chat.js", "text/javascript"),
            ("chat.css", "text/css"),
            ("i18n.js", "text/javascript"),
            ("attach.js", "text/javascript"),
            ("documents_i18n.js", "text/javascript"),
        ]:
            asset = await client.get(f"/chat/{name}")
            assert asset.status_code == 200, name
            assert asset.headers["content-type"].startswith(mime)
            assert asset.text == (WEBCHAT_DIR / name).read_text()

        assert (await client.get("/chat")).status_code == 200  # the slash is optional


async def test_https_rasa_gets_wss_in_the_policy(
    tmp_path: Path, vendor_file: Path, webchat_client: WebchatClient
) -> None:
    async with webchat_client(
        tmp_path, rasa_public_url="https://chat.example.com/rasa", webchat_vendor_path=vendor_file
    ) as client:
        csp = (await client.get("/chat/")).headers["content-security-policy"]
        assert "connect-src 'self' https://chat.example.com wss://chat.example.com;" in csp


async def test_config_tells_the_page_where_rasa_is(tmp_path: Path, webchat_client: WebchatClient) -> None:
    async with webchat_client(
        tmp_path, rasa_public_url="http://127.0.0.1:5999", webchat_default_language="en"
    ) as client:
        res = await client.get("/chat/config.json")
        assert res.status_code == 200
        assert res.json() == {
            "rasa_url": "http://127.0.0.1:5999",
            "socketio_path": "/socket.io",
            "default_language": "en",
            "max_message_chars": 4000,
            "max_message_bytes": 16000,
            "max_document_bytes": 10 * 1024 * 1024,
        }


async def test_prechat_topics_come_from_the_catalogue_in_both_languages(
    tmp_path: Path, webchat_client: WebchatClient
) -> None:
    catalogue = load_catalogue(REPO_ROOT / "data" / "catalogue.yml")
    async with webchat_client(tmp_path) as client:
        res = await client.get("/chat/prechat.json")
        assert res.status_code == 200
        assert res.headers["cache-control"] == "no-store"
        body = res.json()
    assert [t["id"] for t in body["topics"]] == [t.id for t in catalogue.topics]
    withdrawal = next(t for t in body["topics"] if t["id"] == "withdrawal")
    assert withdrawal["name"] == {"tr": "Para çekme", "en": "Withdrawal"}
    assert body["limits"] == PRECHAT_LIMITS


async def test_prechat_topics_follow_an_edited_catalogue(tmp_path: Path, webchat_client: WebchatClient) -> None:
    path = tmp_path / "catalogue.yml"
    path.write_text((REPO_ROOT / "data" / "catalogue.yml").read_text(encoding="utf-8"), encoding="utf-8")
    async with webchat_client(tmp_path, catalogue_path=path) as client:
        before = (await client.get("/chat/prechat.json")).json()["topics"]
        edited = path.read_text(encoding="utf-8").replace("en: Withdrawal}", "en: Cash out}", 1)
        path.write_text(edited, encoding="utf-8")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
        after = (await client.get("/chat/prechat.json")).json()["topics"]
    assert next(t for t in before if t["id"] == "withdrawal")["name"]["en"] == "Withdrawal"
    assert next(t for t in after if t["id"] == "withdrawal")["name"]["en"] == "Cash out"


async def test_vendor_file_is_served_from_the_configured_path(
    tmp_path: Path, vendor_file: Path, webchat_client: WebchatClient
) -> None:
    async with webchat_client(tmp_path, webchat_vendor_path=vendor_file) as client:
        res = await client.get("/chat/vendor/socket.io.min.js")
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/javascript")
        assert res.text == vendor_file.read_text()


async def test_missing_vendor_file_is_a_clear_503(tmp_path: Path, webchat_client: WebchatClient) -> None:
    async with webchat_client(tmp_path, webchat_vendor_path=tmp_path / "nope" / "socket.io.min.js") as client:
        res = await client.get("/chat/vendor/socket.io.min.js")
        assert res.status_code == 503
        assert res.json()["error"]["code"] == "webchat_not_installed"
        assert "make webchat-setup" in res.json()["error"]["message"]
        # the page itself is still served (it shows "unavailable")
        assert (await client.get("/chat/")).status_code == 200


@pytest.mark.parametrize(
    "name", ["package.json", "package-lock.json", ".npmrc", "index.html", "..%2Fapp.py", "nope.js"]
)
async def test_only_the_page_files_are_served(tmp_path: Path, name: str, webchat_client: WebchatClient) -> None:
    async with webchat_client(tmp_path) as client:
        res = await client.get(f"/chat/{name}")
        assert res.status_code == 404
        assert res.json()["error"]["code"] == "not_found"


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    defaults = Settings()
    assert defaults.rasa_public_url == "http://127.0.0.1:5005"
    assert (
        defaults.webchat_vendor_path == REPO_ROOT / "build/webchat/node_modules/socket.io-client/dist/socket.io.min.js"
    )
    assert defaults.webchat_default_language == "tr"

    loaded = load_settings({"HANDOFF_REPO_ROOT": str(tmp_path)}, require_secrets=False)
    assert loaded.rasa_public_url == "http://127.0.0.1:5005"
    assert loaded.webchat_vendor_path == tmp_path / "build/webchat/node_modules/socket.io-client/dist/socket.io.min.js"

    env = {
        "RASA_PUBLIC_URL": "https://chat.example.com/",
        "HANDOFF_WEBCHAT_VENDOR": "/srv/io.js",
        "HANDOFF_WEBCHAT_LANGUAGE": "EN",
    }
    loaded = load_settings(env, require_secrets=False)
    assert (loaded.rasa_public_url, loaded.webchat_vendor_path, loaded.webchat_default_language) == (
        "https://chat.example.com",
        Path("/srv/io.js"),
        "en",
    )


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:5005", "http://x; script-src *", "http://a'b", "http://"])
def test_rasa_public_url_must_be_a_plain_http_url(url: str) -> None:
    with pytest.raises(SettingsError, match="RASA_PUBLIC_URL"):
        load_settings({"RASA_PUBLIC_URL": url}, require_secrets=False)


def test_webchat_language_must_be_tr_or_en() -> None:
    with pytest.raises(SettingsError, match="HANDOFF_WEBCHAT_LANGUAGE"):
        load_settings({"HANDOFF_WEBCHAT_LANGUAGE": "de"}, require_secrets=False)


def test_npm_lock_is_pinned_and_carries_no_registry_address() -> None:
    import json

    package = json.loads((WEBCHAT_DIR / "package.json").read_text())
    version = package["dependencies"]["socket.io-client"]
    assert re.fullmatch(r"4\.\d+\.\d+", version), "an exact 4.x version"
    lock_text = (WEBCHAT_DIR / "package-lock.json").read_text()
    lock = json.loads(lock_text)
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == version
    assert "resolved" not in lock_text and "://" not in lock_text
    assert "omit-lockfile-registry-resolved=true" in (WEBCHAT_DIR / ".npmrc").read_text().splitlines()
