"""The platform's signed customer token, as every process reads it.

HS256, signed with ``CUSTOMER_TOKEN_SECRET``. Claims: ``sub`` or
``username``, ``age_verified`` (bool), ``exp`` (required), and optionally
``language`` (``tr`` or ``en``). A token with a bad signature, expired, or
missing ``exp`` proves nothing. The bot reads it from a message's metadata
(actions/core/customer_token.py); the handoff service's customer panel
exchanges it for a session of its own (handoff/services/panel_sessions.py).
Verified and minted here only: a second ``jwt.decode`` elsewhere would be a
second idea of what the token proves (tests/rules/test_customer_token_claims.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

import jwt

from support_rules.language import SUPPORTED_LANGUAGES

__all__ = ["TOKEN_ALGORITHM", "VerifiedCustomer", "verify_customer_token", "mint_customer_token"]

TOKEN_ALGORITHM: Final = "HS256"


@dataclass(frozen=True)
class VerifiedCustomer:
    username: str | None
    age_verified: bool
    language: str | None = None
    # when the token stops proving anything (a session made from it ends then too)
    expires_at: int | None = field(default=None, compare=False)


def verify_customer_token(token: str | None, secret: str | None) -> VerifiedCustomer | None:
    """The customer the token proves, or None when it proves nothing."""
    if not token or not secret or not isinstance(token, str):
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[TOKEN_ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    username = claims.get("username") or claims.get("sub")
    language = claims.get("language")
    expires = claims.get("exp")
    return VerifiedCustomer(
        username=username if isinstance(username, str) and username else None,
        age_verified=claims.get("age_verified") is True,
        language=language if language in SUPPORTED_LANGUAGES else None,
        expires_at=expires if isinstance(expires, int) and not isinstance(expires, bool) else None,
    )


def mint_customer_token(
    username: str,
    secret: str,
    *,
    age_verified: bool = True,
    ttl_seconds: int = 12 * 3600,
    now: float | None = None,
    language: str | None = None,
) -> str:
    """What the platform does for a logged-in customer (demos and tests use it)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "username": username,
        "age_verified": age_verified,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if language is not None:
        claims["language"] = language
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)
