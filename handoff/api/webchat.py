"""The customer web chat page: static files, no build step.

The page talks to Rasa's socket.io channel directly; this service only serves
it, tells it where Rasa is (``/chat/config.json``), which topics the pre-chat
form offers (``/chat/prechat.json``, read from the catalogue) and serves the socket.io
client that ``make webchat-setup`` installs from npm into ``build/webchat``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request, json
from sanic.response import HTTPResponse, file

from handoff.api.bodies import WebchatConfig, WebchatPrechat
from handoff.api.spec import file_route, operation
from handoff.errors import ApiError, NotFound
from handoff.settings import Settings
from support_rules.catalogue import load_catalogue
from support_rules.limits import MAX_MESSAGE_CHARS
from support_rules.prechat import PRECHAT_LIMITS, form_topics

__all__ = ["bp", "WEBCHAT_DIR", "MAX_MESSAGE_CHARS", "content_security_policy"]

bp = Blueprint("webchat")

WEBCHAT_DIR = Path(__file__).resolve().parent.parent / "webchat"
SOCKETIO_PATH = "/socket.io"
_ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "attach.js": "text/javascript; charset=utf-8",
    "documents_i18n.js": "text/javascript; charset=utf-8",
}


class _Unavailable(ApiError):
    status, code = 503, "unavailable"


def _origins(url: str) -> tuple[str, str]:
    """The http(s) origin of ``url`` and its ws(s) twin, for connect-src."""
    parts = urlsplit(url)
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """Scripts from this service only; sockets to this service and to Rasa."""
    http_origin, ws_origin = _origins(settings.rasa_public_url)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {http_origin} {ws_origin}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _headers(request: Request) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(request.app.ctx.settings),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


@bp.get("/chat/")
@file_route
async def index(request: Request) -> HTTPResponse:
    return await file(WEBCHAT_DIR / "index.html", headers=_headers(request), mime_type="text/html; charset=utf-8")


@bp.get("/chat/config.json")
@operation("Where the web chat page finds Rasa, and its message limits", auth=None, answers={200: WebchatConfig})
async def config(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    return json(
        {
            "rasa_url": settings.rasa_public_url,
            "socketio_path": SOCKETIO_PATH,
            "default_language": settings.webchat_default_language,
            "max_message_chars": settings.max_message_chars,
            "max_message_bytes": settings.max_message_bytes,
            "max_document_bytes": settings.document_max_bytes,
        },
        headers={"Cache-Control": "no-store"},
    )


@lru_cache(maxsize=4)
def _topics(path: Path, _modified_ns: int) -> list[dict[str, Any]]:
    """Read again when the editors change the catalogue (the mtime is part of the key)."""
    return form_topics(load_catalogue(path))


@bp.get("/chat/prechat.json")
@operation(
    "The web chat's pre-chat form: its topics (data/catalogue.yml, named in every language) and field limits",
    auth=None,
    answers={200: WebchatPrechat},
)
async def prechat(request: Request) -> HTTPResponse:
    path: Path = request.app.ctx.settings.catalogue_path
    return json(
        {"topics": _topics(path, path.stat().st_mtime_ns), "limits": PRECHAT_LIMITS},
        headers={"Cache-Control": "no-store"},
    )


@bp.get("/chat/vendor/socket.io.min.js")
@file_route
async def socketio_client(request: Request) -> HTTPResponse:
    path: Path = request.app.ctx.settings.webchat_vendor_path
    if not path.is_file():
        raise _Unavailable(
            "the socket.io client is not installed (run: make webchat-setup)", code="webchat_not_installed"
        )
    return await file(path, headers=_headers(request), mime_type="text/javascript; charset=utf-8")


@bp.get("/chat/<name:str>")
@file_route
async def asset(request: Request, name: str) -> HTTPResponse:
    if name not in _ASSETS:
        raise NotFound("no such file")
    return await file(WEBCHAT_DIR / name, headers=_headers(request), mime_type=_ASSETS[name])
