"""support_rules.customer_token: what the platform's signed token proves,
for the bot and the customer panel alike, and that nobody else decodes it."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from support_rules.customer_token import VerifiedCustomer, mint_customer_token, verify_customer_token
from tests.imports import top_level_imports

SECRET = "customer-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]
# every process's code; the one module allowed to use PyJWT is the shared one
PACKAGES = ("bot", "actions", "handoff", "bench", "stack", "rules")
HOME = ROOT / "rules" / "support_rules" / "customer_token.py"


def _token(secret: str = SECRET, **claims: object) -> str:
    payload = {"username": "ayse_k", "age_verified": True, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_valid_token_proves_username_age_and_language() -> None:
    customer = verify_customer_token(_token(language="en"), SECRET)
    assert customer == VerifiedCustomer("ayse_k", True, "en")
    assert customer is not None and customer.expires_at is not None and customer.expires_at > time.time()


def test_sub_names_the_customer_when_username_is_missing() -> None:
    customer = verify_customer_token(_token(username=None, sub="mehmet_y"), SECRET)
    assert customer is not None and customer.username == "mehmet_y"


@pytest.mark.parametrize(
    "token",
    [
        _token(secret="someone-else-with-a-long-enough-key!"),
        _token(exp=int(time.time()) - 10),
        jwt.encode({"username": "ayse_k"}, SECRET, algorithm="HS256"),  # no expiry
        jwt.encode({"username": "ayse_k", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"),
        "not.a.token",
        "",
    ],
    ids=["bad-signature", "expired", "no-exp", "other-algorithm", "garbage", "empty"],
)
def test_a_token_that_proves_nothing_is_none(token: str) -> None:
    assert verify_customer_token(token, SECRET) is None


def test_unknown_language_and_odd_age_claims_are_not_believed() -> None:
    customer = verify_customer_token(_token(language="de", age_verified="yes"), SECRET)
    assert customer == VerifiedCustomer("ayse_k", False, None)


def test_no_secret_means_no_trust() -> None:
    assert verify_customer_token(_token(), None) is None
    assert verify_customer_token(_token(), "") is None


def test_a_minted_token_verifies_until_it_expires() -> None:
    token = mint_customer_token("ayse_k", SECRET, ttl_seconds=60, language="tr")
    assert verify_customer_token(token, SECRET) == VerifiedCustomer("ayse_k", True, "tr")
    assert verify_customer_token(mint_customer_token("ayse_k", SECRET, now=1_000_000), SECRET) is None


def _users_of_pyjwt() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != HOME and "jwt" in top_level_imports(path):
                found.append(path.relative_to(ROOT).as_posix())
    return found


def test_the_scan_sees_the_home_module() -> None:
    assert "jwt" in top_level_imports(HOME)


def test_the_customer_token_is_decoded_in_one_place() -> None:
    """The bot and the panel share one idea of a valid token: a second
    module importing PyJWT would be a copy of it (rasa_auth signs Rasa's
    own tokens with the standard library)."""
    assert _users_of_pyjwt() == []
