"""support_rules.rasa_auth: the JWT Rasa's --jwt-secret accepts (checked
against a real Rasa in tests/handoff/test_rasa_channel.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from support_rules.rasa_auth import JWT_METHOD, TOKEN_LIFETIME_SECONDS, rasa_api_headers, rasa_api_token


def _parts(token: str) -> tuple[dict, dict, bytes, str]:
    header, payload, signature = token.split(".")

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    return json.loads(decode(header)), json.loads(decode(payload)), decode(signature), f"{header}.{payload}"


def test_a_conversation_token_is_signed_scoped_and_short_lived() -> None:
    header, payload, signature, signed = _parts(rasa_api_token("s3cret", conversation_id="conv-1", now=1000))
    assert header == {"alg": JWT_METHOD, "typ": "JWT"}
    assert payload == {
        "user": {"role": "user", "username": "conv-1"},
        "iat": 1000,
        "exp": 1000 + TOKEN_LIFETIME_SECONDS,
    }
    assert signature == hmac.new(b"s3cret", signed.encode(), hashlib.sha256).digest()


def test_without_a_conversation_the_token_is_admin() -> None:
    _, payload, _, _ = _parts(rasa_api_token("s3cret"))
    assert payload["user"] == {"role": "admin"}


def test_the_header_carries_the_token_and_not_the_secret() -> None:
    headers = rasa_api_headers("s3cret-value", conversation_id="conv-1")
    assert list(headers) == ["Authorization"] and headers["Authorization"].startswith("Bearer ")
    assert "s3cret-value" not in headers["Authorization"]


def test_no_secret_no_token() -> None:
    with pytest.raises(ValueError):
        rasa_api_token("")
