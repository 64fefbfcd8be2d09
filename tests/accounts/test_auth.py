import asyncio
import threading
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service
from app.accounts.models import AuthSession, LoginThrottle, Role, User
from app.audit.models import AuditEntry
from app.core.config import get_settings
from app.core.errors import AppError
from app.core.security import digest_token
from tests.fixtures.accounts import PASSWORD, create_user, sign_in


async def test_token_then_me(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db, role=Role.member)
    headers = await sign_in(client, user.email.upper())  # e-mail is case-insensitive
    response = await client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user.email
    assert body["role"] == "member" and body["role_label"] == "成员"
    assert body["organization"]["kind"] == "university"
    assert body["organization"]["region_name"] == "江苏省 南京市 玄武区"
    assert "password_hash" not in body


async def test_me_requires_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"


async def test_forged_and_garbage_tokens_are_401(client: httpx.AsyncClient, db: AsyncSession) -> None:
    import jwt

    user = await create_user(db)
    forged = jwt.encode(
        {"sub": str(user.id), "sid": str(user.id), "exp": 9999999999, "typ": "access"},
        "a-key-that-is-not-the-services-key-at-all",
    )
    for token in (forged, "garbage", "a.b.c"):
        response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


async def test_wrong_password_is_401_and_unknown_email_looks_the_same(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await create_user(db)
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": "wrong password!"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "nobody@example.cn", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"


async def test_control_characters_in_the_e_mail_are_422_naming_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    # Found by fuzzing: a NUL reached PostgreSQL, which refuses it, and the sign-in answered 500.
    user = await create_user(db)
    for username in (f"{user.email}\x00", "a\x00b@example.cn", f"{user.email}\x1b"):
        response = await client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "username"
    counted = await db.scalar(select(func.count()).select_from(LoginThrottle))
    assert counted == 0


async def test_repeated_failures_lock_the_account(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    for _ in range(3):  # login_max_failures in the test settings
        response = await client.post(
            "/api/v1/auth/token", data={"username": user.email, "password": "wrong password!"}
        )
        assert response.status_code == 401
    # Locked now: even the right password is refused until the lockout ends.
    locked = await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert 0 < int(locked.headers["retry-after"]) <= 61
    actions = (
        await db.execute(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id)))
    ).scalars()
    assert "locked_out" in set(actions)


async def test_success_resets_the_failure_count(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    for _ in range(2):
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": "wrong password!"})
    await sign_in(client, user.email)
    for _ in range(2):
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": "wrong password!"})
    await sign_in(client, user.email)  # would be 429 had the earlier failures still counted


class _Verifications:
    """Spies on Argon2 verification in the worker threads: how many ran, how many at once, and
    with which hashes. `hold` keeps wrong guesses inside the check until `release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, hold: bool = False, seconds: float = 0) -> None:
        self.count = 0
        self.running = 0
        self.peak = 0
        self.hashes: list[str] = []
        self._lock = threading.Lock()
        self._gate = threading.Event()
        if not hold:
            self._gate.set()
        original = PasswordHasher.verify

        def verify(hasher: PasswordHasher, digest: str, password: str) -> bool:
            with self._lock:
                self.count += 1
                self.running += 1
                self.peak = max(self.peak, self.running)
                self.hashes.append(digest)
            try:
                if password != PASSWORD:
                    self._gate.wait(10)
                time.sleep(seconds)
                return original(hasher, digest, password)
            finally:
                with self._lock:
                    self.running -= 1

        monkeypatch.setattr(PasswordHasher, "verify", verify)

    def release(self) -> None:
        self._gate.set()

    async def until_running(self, n: int) -> None:
        for _ in range(1000):
            if self.running >= n:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.running} of {n} verifications started")


def _token(client: httpx.AsyncClient, email: str, password: str) -> Awaitable[httpx.Response]:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


async def test_a_burst_of_guesses_checks_no_more_passwords_than_the_limit(
    app, client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """24 wrong passwords at once all got 401, none 429: each was counted only after its hash was
    checked. Now exactly the limit are checked and the rest refused, and the account is locked."""
    user = await create_user(db)
    limit = app.state.settings.login_max_failures
    checked = _Verifications(monkeypatch)
    burst = await asyncio.gather(*(_token(client, user.email, f"wrong password {i}") for i in range(24)))
    statuses = [r.status_code for r in burst]
    assert statuses.count(401) == limit and statuses.count(429) == 24 - limit, statuses
    assert checked.count == limit
    locked = await _token(client, user.email, PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "account_locked"
    assert checked.count == limit  # the right password was not even checked


async def test_the_right_password_in_a_burst_does_not_get_in_once_the_limit_is_reached(
    app, client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit's worth of wrong guesses are being checked (held in the check) when the right
    password arrives: it got 200, as the guesses were not yet counted."""
    user = await create_user(db)
    limit = app.state.settings.login_max_failures
    checked = _Verifications(monkeypatch, hold=True)
    guesses = [asyncio.ensure_future(_token(client, user.email, f"wrong password {i}")) for i in range(limit)]
    await checked.until_running(limit)
    right = await _token(client, user.email, PASSWORD)
    checked.release()
    assert [r.status_code for r in await asyncio.gather(*guesses)] == [401] * limit
    assert right.status_code == 429, right.text
    assert (await _token(client, user.email, PASSWORD)).status_code == 429
    assert checked.count == limit


async def test_guesses_on_separate_database_sessions_check_no_more_than_the_limit(
    app, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race below HTTP: each sign-in in its own session and transaction."""
    user = await create_user(db)
    settings = app.state.settings
    checked = _Verifications(monkeypatch)

    async def attempt(password: str) -> int:
        async with app.state.database.sessionmaker() as session:
            try:
                await service.login(session, email=user.email, password=password, settings=settings)
            except AppError as error:
                return error.status
            return 200

    statuses = await asyncio.gather(*(attempt(f"wrong password {i}") for i in range(24)))
    assert statuses.count(401) == settings.login_max_failures, statuses
    assert statuses.count(429) == 24 - settings.login_max_failures
    assert checked.count == settings.login_max_failures
    assert await attempt(PASSWORD) == 429


async def test_no_more_argon2_checks_run_at_once_than_configured(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check takes 64 MiB in production: a crowd of sign-ins once ran as many at once as the
    thread pool has threads (40)."""
    checked = _Verifications(monkeypatch, seconds=0.05)
    await asyncio.gather(*(_token(client, f"someone{i}@example.cn", "wrong password!") for i in range(12)))
    assert checked.count == 12
    assert 1 < checked.peak <= get_settings().password_hash_concurrency, checked.peak


async def test_unknown_wrong_and_deactivated_answer_alike_until_the_password_is_right(
    app, client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown e-mail was never locked out, so a 429 told that an account exists. Now every
    e-mail is counted and locked alike, each wrong attempt checks one Argon2 hash of the same cost
    (a dummy one for an unknown e-mail), and only the right password tells a deactivated account."""
    limit = app.state.settings.login_max_failures
    active = await create_user(db)
    deactivated = await create_user(db)
    await db.execute(User.__table__.update().where(User.id == deactivated.id).values(is_active=False))
    await db.commit()
    checked = _Verifications(monkeypatch)
    answers = {}
    for email in (active.email, deactivated.email, "nobody@example.cn"):
        responses = [await _token(client, email, "wrong password!") for _ in range(limit + 1)]
        answers[email] = [(r.status_code, r.json()["code"], "retry-after" in r.headers) for r in responses]
    expected = [(401, "invalid_credentials", False)] * limit + [(429, "account_locked", True)]
    assert list(answers.values()) == [expected] * 3, answers
    assert checked.count == 3 * limit
    costs = {digest.rsplit("$", 2)[0] for digest in checked.hashes}  # $argon2id$v=19$m=…,t=…,p=…
    assert len(costs) == 1, costs

    other = await create_user(db)
    await db.execute(User.__table__.update().where(User.id == other.id).values(is_active=False))
    await db.commit()
    wrong = await _token(client, other.email, "wrong password!")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    right = await _token(client, other.email, PASSWORD)
    assert (right.status_code, right.json()["code"]) == (403, "account_disabled")


async def test_a_lockout_ends_and_expired_counts_are_pruned(
    app, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await create_user(db)
    for _ in range(app.state.settings.login_max_failures):
        await _token(client, user.email, "wrong password!")
    assert (await _token(client, user.email, PASSWORD)).status_code == 429
    # Guesses at unknown e-mails leave rows behind; later attempts delete expired ones.
    for i in range(3):
        await _token(client, f"nobody{i}@example.cn", "wrong password!")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await db.execute(update(LoginThrottle).values(expires_at=past))
    await db.commit()
    await sign_in(client, user.email)  # the lockout is over
    await _token(client, "someone-else@example.cn", "wrong password!")
    left = (await db.execute(select(LoginThrottle.email_digest))).scalars().all()
    # The three expired ones went two at a time; the user's went with the success.
    assert left == [digest_token("someone-else@example.cn")]


async def test_a_storm_of_wrong_passwords_does_not_exhaust_the_pool(
    app, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """More wrong passwords at once than the pool has connections (pool size + overflow). Each
    failed sign-in once took a second connection to record the failure while holding the first:
    the pool deadlocked until its timeout and the sign-ins answered 500."""
    user = await create_user(db)
    storm = 2 * app.state.settings.db_pool_size + 5  # the pool's size plus an overflow as large
    guesses = [
        client.post("/api/v1/auth/token", data={"username": user.email, "password": f"wrong password {i}"})
        for i in range(storm)
    ]
    statuses = [r.status_code for r in await asyncio.gather(*guesses)]
    assert set(statuses) <= {401, 429}, statuses
    assert (await _token(client, user.email, PASSWORD)).status_code == 429


async def test_refresh_rotates_and_reuse_revokes_the_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await create_user(db)
    first = (
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    ).json()

    second = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200

    # The old token again: treated as theft, the whole session ends.
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_refresh_token"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert after.status_code == 401
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 401
    revoked = await db.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.revoked_at.is_not(None))
    )
    assert revoked == 1


async def test_a_storm_of_replayed_refresh_tokens_does_not_exhaust_the_pool(
    app, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A stolen, already rotated refresh token replayed by more clients at once than the pool has
    connections: each replay once revoked the session on a second connection while its first held
    the token's row lock, and the pool deadlocked."""
    user = await create_user(db)
    first = (
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    ).json()
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    storm = 2 * app.state.settings.db_pool_size + 5
    replays = await asyncio.gather(
        *(
            client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
            for _ in range(storm)
        )
    )
    assert {r.status_code for r in replays} == {401}
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
    assert after.status_code == 401  # the session was revoked


async def test_logout_ends_refresh_and_access_tokens(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    tokens = (
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401


async def test_logout_by_refresh_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    tokens = (
        await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    ).json()
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401


async def test_logout_without_anything_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def test_inactive_user_cannot_sign_in(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    await db.execute(User.__table__.update().where(User.id == user.id).values(is_active=False))
    await db.commit()
    response = await client.post("/api/v1/auth/token", data={"username": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


async def test_sign_in_is_audited(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await create_user(db)
    await sign_in(client, user.email)
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "signed_in"))
    assert entry is not None and entry.actor_user_id == user.id and entry.request_id
