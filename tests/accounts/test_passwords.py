"""Guessable passwords are refused wherever a password is set: sign-up, administrators, the CLI."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import operations
from app.accounts.models import Organization, Role, User
from app.core.config import Settings
from tests.accounts.test_organizations import registration
from tests.fixtures.accounts import create_organization, sign_in
from tests.test_cli import techex


async def _count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]


def _weak(response: httpx.Response, field: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "weak_password"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "weak_password")]
    assert 0 <= body["password_feedback"]["score"] < 3
    return body


async def test_sign_up_refuses_guessable_passwords_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """`aaaaaaaaaa`, `1234567890` and the e-mail itself were accepted (ten characters was the
    only rule)."""
    for password in ("aaaaaaaaaa", "1234567890", "founder@example.cn", "Founder@Example.cn"):
        body = registration()
        body["user"]["password"] = password  # type: ignore[index]
        refused = _weak(await client.post("/api/v1/auth/register", json=body), "user.password")
        feedback = refused["password_feedback"]
        assert feedback["warning"] or feedback["suggestions"]  # the estimator's advice is passed on
        assert (
            feedback["suggestions"][0] in refused["errors"][0]["message"]
            or feedback["warning"] in (refused["errors"][0]["message"])
        )
    top100 = registration()
    top100["user"]["password"] = "1234567890"  # type: ignore[index]
    english = await client.post("/api/v1/auth/register", json=top100, headers={"Accept-Language": "en"})
    assert "top-100 common password" in english.json()["errors"][0]["message"]
    assert await _count(db, Organization) == 0
    assert await _count(db, User) == 0


async def test_the_user_s_own_e_mail_and_name_count_as_guessable(client: httpx.AsyncClient) -> None:
    """Strong on their own (zxcvbn scores them 4), weak for this user."""
    for password in ("wangqiang2024", "Wangqiang.1988"):
        body = registration()
        body["user"] = {"email": "wangqiang@example.cn", "password": password, "full_name": "Wang Qiang"}
        _weak(await client.post("/api/v1/auth/register", json=body), "user.password")
    body = registration()
    body["user"] = {"email": "li.ming@example.cn", "password": "wangqiang2024", "full_name": "Li Ming"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201


async def test_administrators_cannot_create_users_with_guessable_passwords(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:
    admin = await signed_in(role=Role.admin)
    organization = await create_organization(db)
    before = await _count(db, User)
    body = {"email": "officer@example.cn", "role": "member", "organization_id": str(organization.id)}
    response = await client.post(
        "/api/v1/users", json=body | {"password": "password1234"}, headers=admin.headers
    )
    _weak(response, "password")
    assert await _count(db, User) == before
    created = await client.post(
        "/api/v1/users", json=body | {"password": "plum kettle orbit"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text


async def test_the_command_line_refuses_a_guessable_password(  # type: ignore[no-untyped-def]
    app, settings: Settings, db: AsyncSession
) -> None:
    env = {"DATABASE_URL": settings.database_url or ""}
    refused = techex(
        "create-user",
        "--email",
        "a@b.cn",
        "--password",
        "qwertyuiop",
        "--role",
        "member",
        "--org",
        "某大学",
        "--org-kind",
        "university",
        env=env,
    )
    assert refused.returncode == 1 and "password" in refused.stderr and "guess" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert await _count(db, Organization) == 0


async def test_the_demo_administrator_s_generated_password_is_accepted(
    app, settings: Settings, client: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    credentials = await operations.ensure_demo_admin(settings)
    assert credentials is not None
    await sign_in(client, *credentials)
