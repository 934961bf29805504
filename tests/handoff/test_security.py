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


async def test_login_throttle_delays_grow_per_username_and_address_across_replicas(sessionmaker, seed) -> None:
    """Counted in the database: two limiters (two replicas) see one count.
    Free attempts, then delays that double; another address is not
    delayed; a success clears the username's count from that address;
    usernames and addresses are not stored as typed."""
    from datetime import timedelta

    from sqlalchemy import select

    from handoff.models import LoginFailure, utcnow
    from handoff.services.login_limits import LoginLimiter, ThrottleRules

    rules = ThrottleRules(
        max_failures=3, address_max_failures=5, window_seconds=600, delay_seconds=10, max_delay_seconds=25
    )
    a, b = LoginLimiter(sessionmaker, rules), LoginLimiter(sessionmaker, rules)
    t0 = utcnow()

    def at(seconds: float):
        return t0 + timedelta(seconds=seconds)

    for i, limiter in enumerate((a, b, a)):
        assert await limiter.reserve("Ali", "1.2.3.4", now=at(i)) is None
    assert await b.reserve("ali", "1.2.3.4", now=at(3)) == 9  # 10 s after the third
    assert await a.reserve("ali", "1.2.3.4", now=at(12)) is None
    assert await a.reserve("ali", "1.2.3.4", now=at(20)) == 12  # then 20 s
    assert await a.reserve("ali", "1.2.3.4", now=at(32)) is None
    assert await a.reserve("ali", "1.2.3.4", now=at(40)) == 17  # then at most 25 s
    assert await b.reserve("ali", "9.9.9.9", now=at(40)) is None  # not from another address
    # the address: 5 free whatever the username (1.2.3.4 has 5 counted now)
    assert await a.reserve("veli", "1.2.3.4", now=at(41)) is not None
    assert await a.reserve("ali", "1.2.3.4", now=at(700)) is None  # the window passed
    async with sessionmaker() as session:
        keys = list((await session.execute(select(LoginFailure.key))).scalars())
    assert not any("ali" in k.lower() or "1.2.3.4" in k for k in keys)
    await b.succeeded("ALI", "1.2.3.4")
    for i in range(3):
        assert await a.reserve("ali", "1.2.3.4", now=at(701 + i)) is None
