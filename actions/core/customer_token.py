"""The signed token an authenticated channel puts in message metadata.

HS256, signed with the configured secret. Claims: ``sub`` or ``username``,
``age_verified`` (bool) and ``exp``. A token with a bad signature, expired,
or missing the claims proves nothing and is ignored.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

__all__ = ["VerifiedCustomer", "verify_customer_token", "token_from_metadata", "mint_customer_token"]

METADATA_KEY = "customer_token"


@dataclass(frozen=True)
class VerifiedCustomer:
    username: str | None
    age_verified: bool


def token_from_metadata(metadata: Mapping[str, Any] | None) -> str | None:
    if not metadata:
        return None
    token = metadata.get(METADATA_KEY)
    return token if isinstance(token, str) and token else None


def verify_customer_token(token: str | None, secret: str | None) -> VerifiedCustomer | None:
    if not token or not secret:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    username = claims.get("username") or claims.get("sub")
    return VerifiedCustomer(
        username=username if isinstance(username, str) else None,
        age_verified=claims.get("age_verified") is True,
    )


def mint_customer_token(
    username: str, secret: str, *, age_verified: bool = True, ttl_seconds: int = 12 * 3600, now: float | None = None
) -> str:
    """What the platform does for a logged-in customer (demos and tests use it)."""
    issued = int(now if now is not None else time.time())
    claims = {"username": username, "age_verified": age_verified, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
