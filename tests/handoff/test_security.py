"""Session tokens, password hashes and the login rate limiter."""

from handoff.security import SessionSigner, hash_password, verify_password


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


async def test_login_limit_window_and_replicas(sessionmaker, seed) -> None:
    """Counted in the database: two limiters (two replicas) see one count;
    usernames and addresses are not stored as typed."""
    from datetime import timedelta

    from sqlalchemy import select

    from handoff.models import LoginFailure, utcnow
    from handoff.services.login_limits import LoginLimiter

    a, b = LoginLimiter(sessionmaker, 3, 60), LoginLimiter(sessionmaker, 3, 60)
    t0 = utcnow()
    for i, limiter in enumerate((a, b, a)):
        assert not await limiter.blocked("Ali", "1.2.3.4", now=t0 + timedelta(seconds=i))
        await limiter.failed("Ali", "1.2.3.4", now=t0 + timedelta(seconds=i))
    assert await b.blocked("ali", "9.9.9.9", now=t0 + timedelta(seconds=10))  # by username, on the other replica
    assert await a.blocked("veli", "1.2.3.4", now=t0 + timedelta(seconds=10))  # by address
    assert not await a.blocked("ali", "9.9.9.9", now=t0 + timedelta(seconds=100))  # window passed
    async with sessionmaker() as session:
        keys = list((await session.execute(select(LoginFailure.key))).scalars())
    assert len(keys) == 6 and not any("ali" in k.lower() or "1.2.3.4" in k for k in keys)
    await b.succeeded("ALI")
    assert not await a.blocked("ali", "9.9.9.9", now=t0 + timedelta(seconds=11))
