"""The credential every caller of Rasa's HTTP API sends, in a header.

Rasa runs with ``--jwt-secret <RASA_JWT_SECRET> --jwt-method HS256`` (and no
``--auth-token``, whose only form is ``?token=`` in the address, which ends
up in access logs). Callers send ``Authorization: Bearer <jwt>``, a token
signed here with the same secret and valid for a minute.

Rasa (rasa/server.py ``requires_auth``) lets a token with ``role: user``
touch only the conversation whose id is its ``username``; ``role: admin``
may touch any and the model. The handoff service signs a token per
conversation it writes to; only the benchmarks' model reload needs admin.

Standard library only, so the handoff service, stack/ and bench/ share it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Final

__all__ = ["JWT_METHOD", "TOKEN_LIFETIME_SECONDS", "rasa_api_token", "rasa_api_headers"]

# Rasa's --jwt-method, and the only algorithm signed here.
JWT_METHOD: Final = "HS256"
TOKEN_LIFETIME_SECONDS: Final = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rasa_api_token(
    secret: str,
    *,
    conversation_id: str | None = None,
    lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
    now: float | None = None,
) -> str:
    """An HS256 JWT Rasa accepts: for one conversation, or (None) as admin.

    ``conversation_id`` as the request's path carries it (quoted): Rasa
    compares it with the path parameter, which its Sanic does not unquote.
    """
    if not secret:
        raise ValueError("a JWT secret is needed to call Rasa's HTTP API")
    issued = int(time.time() if now is None else now)
    user = {"role": "admin"} if conversation_id is None else {"role": "user", "username": conversation_id}
    header = {"alg": JWT_METHOD, "typ": "JWT"}
    payload = {"user": user, "iat": issued, "exp": issued + lifetime_seconds}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) for part in (header, payload)
    )
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def rasa_api_headers(secret: str, *, conversation_id: str | None = None) -> dict[str, str]:
    """The Authorization header for one request to Rasa's HTTP API."""
    return {"Authorization": f"Bearer {rasa_api_token(secret, conversation_id=conversation_id)}"}
