import time

import jwt

from actions.core.customer_token import VerifiedCustomer, token_from_metadata, verify_customer_token

SECRET = "customer-secret-of-at-least-32-bytes!"


def _token(secret: str = SECRET, **claims) -> str:
    payload = {"username": "ayse_k", "age_verified": True, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_valid_token_proves_username_and_age() -> None:
    customer = verify_customer_token(_token(), SECRET)
    assert customer is not None
    assert customer.username == "ayse_k"
    assert customer.age_verified is True


def test_a_token_with_a_bad_signature_is_ignored() -> None:
    assert verify_customer_token(_token(secret="someone-else-with-a-long-enough-key!"), SECRET) is None


def test_an_expired_token_is_ignored() -> None:
    assert verify_customer_token(_token(exp=int(time.time()) - 10), SECRET) is None


def test_a_token_without_expiry_is_ignored() -> None:
    token = jwt.encode({"username": "ayse_k", "age_verified": True}, SECRET, algorithm="HS256")
    assert verify_customer_token(token, SECRET) is None


def test_age_must_be_claimed_as_true() -> None:
    customer = verify_customer_token(_token(age_verified="yes"), SECRET)
    assert customer is not None and customer.age_verified is False


def test_no_secret_configured_means_no_trust() -> None:
    assert verify_customer_token(_token(), None) is None


def test_token_is_read_from_metadata() -> None:
    assert token_from_metadata({"customer_token": "abc"}) == "abc"
    assert token_from_metadata({"customer_token": 5}) is None
    assert token_from_metadata(None) is None


def test_a_minted_token_verifies_and_expires() -> None:
    from actions.core.customer_token import mint_customer_token

    token = mint_customer_token("ayse_k", "s3cret", ttl_seconds=60)
    assert verify_customer_token(token, "s3cret") == VerifiedCustomer("ayse_k", True)
    assert verify_customer_token(token, "other") is None
    old = mint_customer_token("ayse_k", "s3cret", ttl_seconds=60, now=1_000_000)
    assert verify_customer_token(old, "s3cret") is None


def test_the_demo_link_carries_a_token_in_the_fragment(monkeypatch, capsys) -> None:
    from bot.demo_link import main

    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", "s3cret")
    assert main(["--username", "demo_1", "--base-url", "http://chat.example"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://chat.example/chat/#token=")
    assert verify_customer_token(link.split("#token=", 1)[1], "s3cret") == VerifiedCustomer("demo_1", True)
    assert main(["--username", "demo_1", "--base-url", "http://chat.example", "--panel"]) == 0
    panel = capsys.readouterr().out.strip()
    assert panel.startswith("http://chat.example/panel/#token=")
    assert verify_customer_token(panel.split("#token=", 1)[1], "s3cret") == VerifiedCustomer("demo_1", True)
    monkeypatch.delenv("CUSTOMER_TOKEN_SECRET")
    assert main([]) == 2
