"""Rasa's calls to the action server over kept-open connections.

Rasa 3.6's ``EndpointConfig.request`` makes a new ``aiohttp.ClientSession``
for every call and closes it afterwards, so every custom action of every
turn opens a TCP connection to the action server and tears it down: 15 % of
a busy Rasa's samples at 50 customers (`make bench-profile`), almost all of
it in making the connection. ``install()`` gives each ``EndpointConfig`` one
session, made as Rasa makes it (same headers, basic auth and timeout), kept
for the event loop it was made on and reused by every call.

Request bodies (the whole tracker, for every action) are written with
ujson, a Rasa requirement: the same JSON values (floats round-trip
exactly), in about half the time of ``json.dumps`` (about 10 % of a busy
Rasa's samples were aiohttp serialising them).

The session's connector drops a connection after ``IDLE_SECONDS`` unused,
before the action server's keep-alive timeout (Sanic's 5 s) closes it from
its side: a request is then never written to a connection the server is
closing. Nothing else about a request changes; a failure is Rasa's as
before. Installed by bot/installs.py, so every Rasa server with our
credentials or endpoints has it; nothing is patched on import.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

import aiohttp
import ujson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

__all__ = ["install", "IDLE_SECONDS"]

IDLE_SECONDS = 2.0  # below Sanic's KEEP_ALIVE_TIMEOUT (5 s), the action server's
_MARK = "_kept_sessions_installed"
_KEPT = "_kept_session"


def _new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """What Rasa's ``EndpointConfig.session`` makes, on a connector that
    keeps connections open for ``IDLE_SECONDS``."""
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        # limit 0: no cap of aiohttp's own on calls at once (Rasa's sessions had none)
        connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_SECONDS, limit=0),
        json_serialize=ujson.dumps,
    )


def _kept_session(self: EndpointConfig) -> Any:
    loop = asyncio.get_running_loop()
    kept: tuple[weakref.ref[asyncio.AbstractEventLoop], aiohttp.ClientSession] | None = self.__dict__.get(_KEPT)
    if kept is None or kept[0]() is not loop or kept[1].closed:
        kept = (weakref.ref(loop), _new_session(self))  # a closed loop is not kept alive by it
        self.__dict__[_KEPT] = kept
    return contextlib.nullcontext(kept[1])  # ``async with`` that leaves the kept session open


def install() -> None:
    if getattr(EndpointConfig, _MARK, False) or not callable(getattr(EndpointConfig, "session", None)):
        return
    EndpointConfig.session = _kept_session
    setattr(EndpointConfig, _MARK, True)
