"""The customer panel's own session, made from the platform's token.

The page posts the signed customer token once (``POST /panel/api/session``);
the service answers with this session in an HttpOnly cookie for ``/panel``
only, so the token itself is never kept by the browser beyond that request.
Stateless like the agents' sessions (handoff.security), but signed with a
key of its own: an agent's session token is no panel session and a panel
session is no agent's token, whatever header or cookie carries it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Final

__all__ = ["PANEL_COOKIE", "PANEL_PATH", "FORM_PATH", "PanelSession", "PanelSessionSigner"]

PANEL_COOKIE: Final = "panel_session"
PANEL_PATH: Final = "/panel"
# the request form reads the same session (a cookie of its own path, set at the same sign-in)
FORM_PATH: Final = "/form"
_MAX_USERNAME = 64


@dataclass(frozen=True)
class PanelSession:
    username: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class PanelSessionSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(("handoff-panel-session:" + secret_key).encode()).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, username: str, expires_at: int) -> str:
        payload = _b64(json.dumps({"u": username, "x": int(expires_at)}, ensure_ascii=False).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str | None, *, now: float | None = None) -> PanelSession | None:
        if not token:
            return None
        now = time.time() if now is None else now
        try:
            payload, signature = token.split(".", 1)
            if not hmac.compare_digest(signature, self._sign(payload)):
                return None
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = PanelSession(str(data["u"]), int(data["x"]))
        except (ValueError, KeyError, TypeError):
            return None
        if not session.username or len(session.username) > _MAX_USERNAME or session.expires_at <= now:
            return None
        return session
