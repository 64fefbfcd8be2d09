"""Password hashing (Argon2id), password strength, and access tokens (JWT, HS256).

Argon2 is deliberately slow, so hashing runs in a worker thread and never blocks the event loop;
each hash takes `password_hash_memory_kib` of memory, so at most `password_hash_concurrency` run at
once and further ones wait their turn.
"""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool
from zxcvbn import zxcvbn

from app.core.config import get_settings

ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> tuple[PasswordHasher, str]:
    """The Argon2id hasher at the configured cost, and a hash to verify against when the e-mail
    is unknown, so that a miss costs as much time as a wrong password."""
    settings = get_settings()
    hasher = PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )
    return hasher, hasher.hash(secrets.token_hex(16))


# One limiter per event loop (a limiter belongs to the loop it waits on), as anyio keeps its own.
_HASH_LIMITER: RunVar[CapacityLimiter] = RunVar("password_hash_limiter")


def _hash_limiter() -> CapacityLimiter:
    try:
        return _HASH_LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(get_settings().password_hash_concurrency)
        _HASH_LIMITER.set(limiter)
        return limiter


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(lambda: _hasher()[0].hash(password), limiter=_hash_limiter())


async def verify_password(password: str, password_hash: str | None) -> bool:
    def verify() -> bool:
        hasher, dummy = _hasher()
        try:
            return hasher.verify(password_hash or dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await to_thread.run_sync(verify, limiter=_hash_limiter())


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made at another cost; sign-in then re-hashes at the current one."""
    return _hasher()[0].check_needs_rehash(password_hash)


@dataclass(frozen=True)
class PasswordWeakness:
    """Why zxcvbn judged a password guessable: its score (0-4) and its advice, in English."""

    score: int
    warning: str
    suggestions: list[str]


# The longest password the schemas accept; zxcvbn refuses longer ones (72 by default).
PASSWORD_MAX_LENGTH = 128


def _user_input_words(user_inputs: list[str]) -> list[str]:
    """The inputs whole and in pieces: zxcvbn finds a dictionary word inside the password, not the
    password inside a word, so `zhang@nju.edu.cn` alone would let `zhangwei2024` through."""
    words: set[str] = set()
    for text in user_inputs:
        text = text.strip().lower()
        pieces = [p for p in re.split(r"[^0-9a-z\u4e00-\u9fff]+", text) if p]
        words.update([text, "".join(pieces), *pieces])
        local, _, domain = text.partition("@")
        words.update({local, domain} - {""})
    return sorted(w for w in words if w)


async def password_weakness(
    password: str, *, user_inputs: list[str], min_score: int
) -> PasswordWeakness | None:
    """None when zxcvbn scores the password at least `min_score`, taking what the exchange knows
    about the user (e-mail, name, organization) as words an attacker would try first. A worker
    thread: a long password takes zxcvbn over 100 ms."""
    result = await run_in_threadpool(
        zxcvbn, password, user_inputs=_user_input_words(user_inputs), max_length=PASSWORD_MAX_LENGTH
    )
    if result["score"] >= min_score:
        return None
    feedback = result["feedback"]
    return PasswordWeakness(
        score=result["score"], warning=feedback["warning"], suggestions=list(feedback["suggestions"])
    )


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def create_access_token(
    *, user_id: uuid.UUID, session_id: uuid.UUID, secret: str, ttl: timedelta, now: datetime | None = None
) -> tuple[str, datetime]:
    issued = now or datetime.now(UTC)
    expires = issued + ttl
    token = jwt.encode(
        {"sub": str(user_id), "sid": str(session_id), "iat": issued, "exp": expires, "typ": "access"},
        secret,
        algorithm=ALGORITHM,
    )
    return token, expires


def decode_access_token(token: str, *, secret: str) -> AccessClaims | None:
    """The token's claims, or None when it is malformed, forged, expired or of another type."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "sid", "exp"]})
        if claims.get("typ") != "access":
            return None
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError):
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def digest_token(token: str) -> str:
    """Refresh tokens are stored only as digests: a database leak hands out no live sessions."""
    return hashlib.sha256(token.encode()).hexdigest()
