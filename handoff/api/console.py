"""The agent console and the editors' page: static files, no build step."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request, redirect
from sanic.response import HTTPResponse, file

from handoff.api.spec import file_route
from handoff.errors import NotFound

bp = Blueprint("console")

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.get("/")
@file_route
async def root(request: Request) -> HTTPResponse:
    return redirect("/console/")


@bp.get("/console/")
@file_route
async def index(request: Request) -> HTTPResponse:
    return await file(CONSOLE_DIR / "index.html", headers=_SECURITY_HEADERS, mime_type="text/html; charset=utf-8")


# the editors' page (the review inbox, training, figures): its data comes
# from /api/v1/editor/*, which checks the role; the page itself is public
@bp.get("/console/editor/")
@file_route
async def editor(request: Request) -> HTTPResponse:
    return await file(CONSOLE_DIR / "editor.html", headers=_SECURITY_HEADERS, mime_type="text/html; charset=utf-8")


_ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "editor.js": "text/javascript; charset=utf-8",
    "editor.css": "text/css; charset=utf-8",
}


@bp.get("/console/<name:str>")
@file_route
async def asset(request: Request, name: str) -> HTTPResponse:
    if name == "editor":
        return redirect("/console/editor/")
    if name not in _ASSETS:
        raise NotFound("no such file")
    return await file(CONSOLE_DIR / name, headers=_SECURITY_HEADERS, mime_type=_ASSETS[name])
