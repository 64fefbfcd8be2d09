import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AuthSession, Role, User
from app.audit.models import AuditEntry
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
    refused = await db.scalar(select(User.failed_login_count).where(User.id == user.id))
    assert refused == 0


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


async def test_concurrent_guesses_cannot_exceed_the_limit(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    user = await create_user(db)
    guesses = [
        client.post("/api/v1/auth/token", data={"username": user.email, "password": f"wrong password {i}"})
        for i in range(6)
    ]
    statuses = [r.status_code for r in await asyncio.gather(*guesses)]
    assert set(statuses) <= {401, 429}
    await db.refresh(user)
    assert user.locked_until is not None


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
    await db.refresh(user)
    assert user.locked_until is not None


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
