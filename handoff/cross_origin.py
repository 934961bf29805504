"""Refusing cross-origin changes made with an agent's session cookie (CSRF).

``SameSite=Strict`` is not enough: another port of the same host (Rasa's
socket.io channel on 5005, say) is the same *site*, so its pages send the
cookie. A state-changing request (anything but GET, HEAD, OPTIONS) that
a browser could have sent with the cookie is allowed only from an allowed
origin:

1. with an ``Origin`` header: that origin is one of ``HANDOFF_ALLOWED_ORIGINS``,
   or, when that list is empty, the service's own origin (the ``Origin``'s
   host and port are the request's ``Host``);
2. without one, ``Sec-Fetch-Site`` is ``same-origin`` or ``none`` (typed
   in the address bar);
3. without either, the ``Referer``'s origin passes the test of 1.

A request with none of the three headers is not from a browser page (curl,
the bot, scripts) and passes, as do requests authenticated with a bearer
token, which a page of another origin cannot send without the service
allowing it (no CORS here). The same rule as Go's
``http.CrossOriginProtection``, with an explicit list for deployments
where the proxy rewrites ``Host``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["SAFE_METHODS", "origin_of", "allowed_origin"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-case; None when it has none (``null``, garbage)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _origin_ok(origin: str | None, host: str, allowed: Sequence[str]) -> bool:
    if origin is None:
        return False
    if allowed:
        return origin in allowed
    return bool(host) and origin.split("://", 1)[1] == host.strip().lower()


def allowed_origin(headers: Mapping[str, str], *, host: str, allowed: Sequence[str]) -> bool:
    """Whether a state-changing request with these (lower-case) headers may
    act with the session cookie."""
    if "origin" in headers:
        return _origin_ok(origin_of(headers["origin"]), host, allowed)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in {"same-origin", "none"}
    if "referer" in headers:
        return _origin_ok(origin_of(headers["referer"]), host, allowed)
    return True
