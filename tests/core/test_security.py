import uuid
from datetime import UTC, datetime, timedelta

from app.core.security import create_access_token, decode_access_token, hash_password, verify_password

SECRET = "s" * 40


def test_expired_tokens_are_refused() -> None:
    token, _ = create_access_token(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        secret=SECRET,
        ttl=timedelta(minutes=15),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert decode_access_token(token, secret=SECRET) is None


def test_a_valid_token_round_trips() -> None:
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token, _expires = create_access_token(
        user_id=user_id, session_id=session_id, secret=SECRET, ttl=timedelta(minutes=5)
    )
    claims = decode_access_token(token, secret=SECRET)
    assert claims is not None and claims.user_id == user_id and claims.session_id == session_id
    assert decode_access_token(token, secret="t" * 40) is None


async def test_passwords_are_argon2_and_verify() -> None:
    digest = await hash_password("correct horse battery")
    assert digest.startswith("$argon2id$v=19$m=8192,t=1,p=1$")  # the cost from the settings
    assert await verify_password("correct horse battery", digest)
    assert not await verify_password("wrong", digest)
    assert not await verify_password("anything", None)
