"""Session tokens, password hashes and the login rate limiter."""

from handoff.security import LoginRateLimiter, SessionSigner, hash_password, verify_password


def test_password_hash_roundtrip() -> None:
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2")
    assert verify_password(h, "s3cret-pass")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "s3cret-pass")


def test_session_token_roundtrip_and_tamper() -> None:
    signer = SessionSigner("k1", 60)
    token = signer.issue(7, 3, now=1000)
    claims = signer.verify(token, now=1001)
    assert claims is not None and claims.agent_id == 7 and claims.epoch == 3
    assert signer.verify(token, now=1061) is None  # expired
    assert SessionSigner("other", 60).verify(token, now=1001) is None
    payload, sig = token.split(".")
    assert signer.verify(payload[:-2] + "xx." + sig, now=1001) is None
    assert signer.verify("garbage", now=1001) is None


def test_login_rate_limiter_window() -> None:
    limiter = LoginRateLimiter(max_failures=3, window_seconds=60)
    for i in range(3):
        assert not limiter.blocked("ali", "1.2.3.4", now=i)
        limiter.failed("ali", "1.2.3.4", now=i)
    assert limiter.blocked("ali", "9.9.9.9", now=10)  # by username
    assert limiter.blocked("veli", "1.2.3.4", now=10)  # by address
    assert not limiter.blocked("ali", "9.9.9.9", now=100)  # window passed
