"""Administrators find, deactivate and reactivate users."""

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role
from app.audit.models import AuditEntry
from tests.fixtures.accounts import PASSWORD, create_user


async def _tokens(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})


async def _audited(db: AsyncSession, user_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None, dict]]:
    rows = await db.execute(
        select(AuditEntry.action, AuditEntry.actor_user_id, AuditEntry.changes)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == str(user_id))
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


async def test_a_deactivated_user_is_signed_out_everywhere_until_reactivated(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:
    admin = await signed_in(role=Role.admin)
    user = await create_user(db)
    phone, laptop = [(await _tokens(client, user.email)).json() for _ in range(2)]

    deactivated = await client.post(f"/api/v1/users/{user.id}/deactivate", headers=admin.headers)
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["is_active"] is False
    for tokens in (phone, laptop):
        me = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 401
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401
    refused = await _tokens(client, user.email)
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"

    again = await client.post(f"/api/v1/users/{user.id}/deactivate", headers=admin.headers)
    assert again.status_code == 200  # idempotent, logged once
    reactivated = await client.post(f"/api/v1/users/{user.id}/reactivate", headers=admin.headers)
    assert reactivated.status_code == 200 and reactivated.json()["is_active"] is True
    # The sessions ended with the deactivation stay ended: the user signs in again.
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refreshed.status_code == 401
    assert (await _tokens(client, user.email)).status_code == 200

    assert (await _audited(db, user.id))[1:] == [  # after "created"
        ("deactivated", admin.user.id, {"is_active": [True, False], "sessions_ended": 2}),
        ("reactivated", admin.user.id, {"is_active": [False, True]}),
    ]


async def test_only_administrators_deactivate_and_not_themselves(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:
    admin = await signed_in(role=Role.admin)
    member = await signed_in()
    for path in (f"/api/v1/users/{admin.user.id}/deactivate", f"/api/v1/users/{member.user.id}/reactivate"):
        refused = await client.post(path, headers=member.headers)
        assert refused.status_code == 403, path
    own = await client.post(f"/api/v1/users/{admin.user.id}/deactivate", headers=admin.headers)
    assert own.status_code == 409 and own.json()["code"] == "cannot_deactivate_self"
    assert (await client.get("/api/v1/users/me", headers=admin.headers)).status_code == 200
    missing = await client.post(f"/api/v1/users/{uuid.uuid4()}/deactivate", headers=admin.headers)
    assert missing.status_code == 404
    assert [action for action, *_ in await _audited(db, admin.user.id)] == ["created"]


async def test_administrators_find_users_by_e_mail_organization_and_state(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:
    admin = await signed_in(role=Role.admin)
    colleague, other = await create_user(db), await create_user(db)
    departed = await create_user(db, organization=await db.get(Organization, colleague.organization_id))
    assert (
        await client.post(f"/api/v1/users/{departed.id}/deactivate", headers=admin.headers)
    ).status_code == 200

    async def listed(**params: str) -> list[str]:
        response = await client.get("/api/v1/users", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await listed(email=other.email.upper()) == [str(other.id)]
    assert await listed(organization_id=str(colleague.organization_id)) == [
        str(departed.id),
        str(colleague.id),
    ]
    assert await listed(organization_id=str(colleague.organization_id), active="false") == [str(departed.id)]
    bad = await client.get("/api/v1/users", params={"email": "a\x00@x.cn"}, headers=admin.headers)
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["email"]
    member = await signed_in()
    assert (await client.get("/api/v1/users", headers=member.headers)).status_code == 403
