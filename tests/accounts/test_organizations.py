import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role, User
from app.audit.models import AuditEntry
from tests.fixtures.accounts import PASSWORD, create_organization, credit_code, sign_in


def registration(**organization: object) -> dict[str, object]:
    return {
        "organization": {
            "kind": "enterprise",
            "name": "南京某某科技有限公司",
            "credit_code": credit_code(),
            "region_code": "320115",
            **organization,
        },
        "user": {"email": "Founder@Example.cn", "password": PASSWORD, "full_name": "王工"},
    }


async def _count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]


async def test_self_service_registration_creates_an_unverified_organization(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.post("/api/v1/auth/register", json=registration())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "founder@example.cn"
    assert body["role"] == "member"
    assert body["organization"]["verified"] is False
    assert body["organization"]["region_name"] == "江苏省 南京市 江宁区"
    # The new user can sign in straight away.
    await sign_in(client, "founder@example.cn")
    actions = set((await db.execute(select(AuditEntry.object_type + ":" + AuditEntry.action))).scalars())
    assert {"organization:created", "user:created"} <= actions


async def test_registration_refuses_bad_codes_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    bad_check_character = credit_code()[:-1] + ("0" if credit_code()[-1] != "0" else "1")
    cases = {
        "organization.credit_code": registration(credit_code=bad_check_character),
        "organization.region_code": registration(region_code="329999"),
        "organization.kind": registration(kind="registration_office"),
        "organization.name": registration(name="某某\x07科技有限公司"),
    }
    for field, body in cases.items():
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
    assert await _count(db, Organization) == 0
    assert await _count(db, User) == 0


async def test_abolished_region_codes_are_refused(client: httpx.AsyncClient) -> None:
    # 320103 白下区 was merged into 秦淮区 in 2013.
    response = await client.post("/api/v1/auth/register", json=registration(region_code="320103"))
    assert response.status_code == 422


async def test_duplicate_registration_is_409_naming_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = registration()
    assert (await client.post("/api/v1/auth/register", json=first)).status_code == 201
    again = registration(name="另一家公司", credit_code=first["organization"]["credit_code"])  # type: ignore[index]
    again["user"] = {"email": "other@example.cn", "password": PASSWORD}
    response = await client.post("/api/v1/auth/register", json=again)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "organization.credit_code"
    same_email = registration(name="第三家公司", credit_code=credit_code())
    response = await client.post("/api/v1/auth/register", json=same_email)
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "user.email"
    assert await _count(db, Organization) == 1  # the failed attempts left nothing behind


async def test_only_admins_verify(client: httpx.AsyncClient, db: AsyncSession, signed_in) -> None:  # type: ignore[no-untyped-def]
    organization = await create_organization(db, kind=OrganizationKind.enterprise, verified=False)
    url = f"/api/v1/organizations/{organization.id}/verify"
    assert (await client.post(url)).status_code == 401
    member = await signed_in(role=Role.member)
    denied = await client.post(url, headers=member.headers)
    assert denied.status_code == 403
    assert denied.json()["code"] == "role_required"

    admin = await signed_in(role=Role.admin)
    response = await client.post(url, headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["verified"] is True
    again = await client.post(url, headers=admin.headers)  # idempotent
    assert again.status_code == 200
    entries = (
        (
            await db.execute(
                select(AuditEntry).where(
                    AuditEntry.object_id == str(organization.id), AuditEntry.action == "verified"
                )
            )
        )
        .scalars()
        .all()
    )
    assert len(entries) == 1 and entries[0].actor_user_id == admin.user.id


async def test_verify_unknown_organization_is_404(client: httpx.AsyncClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = await signed_in(role=Role.admin)
    response = await client.post(
        "/api/v1/organizations/00000000-0000-4000-8000-000000000000/verify", headers=admin.headers
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_admin_creates_a_registration_office_and_an_officer(
    client: httpx.AsyncClient, signed_in
) -> None:  # type: ignore[no-untyped-def]
    admin = await signed_in(role=Role.admin)
    office = await client.post(
        "/api/v1/organizations",
        headers=admin.headers,
        json={
            "kind": "registration_office",
            "name": "南京市技术合同登记处",
            "region_code": "320100",
            "registration_point": "01",
        },
    )
    assert office.status_code == 201, office.text
    assert office.json()["registration_point"] == "01"
    officer = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={
            "email": "officer@nj.gov.cn",
            "password": PASSWORD,
            "role": "registration_officer",
            "organization_id": office.json()["id"],
        },
    )
    assert officer.status_code == 201, officer.text
    # A registration officer cannot sit in a university.
    university = await client.post(
        "/api/v1/organizations", headers=admin.headers, json={"kind": "university", "name": "南京大学"}
    )
    mismatch = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={
            "email": "wrong@nju.edu.cn",
            "password": PASSWORD,
            "role": "registration_officer",
            "organization_id": university.json()["id"],
        },
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "role_organization_mismatch"


async def test_registration_point_only_for_offices(client: httpx.AsyncClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = await signed_in(role=Role.admin)
    response = await client.post(
        "/api/v1/organizations",
        headers=admin.headers,
        json={"kind": "university", "name": "某大学", "registration_point": "01"},
    )
    assert response.status_code == 422


async def test_two_offices_of_one_city_cannot_share_a_registration_point(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:  # type: ignore[no-untyped-def]
    # Their contract numbers would be the same (province, city, point, sequence).
    admin = await signed_in(role=Role.admin)

    async def office(name: str, region: str, point: str) -> httpx.Response:
        body = {"kind": "registration_office", "name": name, "region_code": region}
        return await client.post(
            "/api/v1/organizations", headers=admin.headers, json=body | {"registration_point": point}
        )

    assert (await office("南京市技术合同登记处", "320100", "01")).status_code == 201
    county = await office("玄武区技术合同登记点", "320102", "01")
    assert county.status_code == 409
    assert [e["field"] for e in county.json()["errors"]] == ["organization.registration_point"]
    assert await db.scalar(select(func.count()).where(Organization.name == "玄武区技术合同登记点")) == 0
    assert (await office("玄武区技术合同登记点", "320102", "02")).status_code == 201
    assert (await office("江苏省技术市场管理中心", "320000", "01")).status_code == 201  # city code 00
    assert (await office("苏州市技术合同登记处", "320500", "01")).status_code == 201


async def test_organization_list_is_paginated_and_admin_only(
    client: httpx.AsyncClient, db: AsyncSession, signed_in
) -> None:  # type: ignore[no-untyped-def]
    admin = await signed_in(role=Role.admin)
    for _ in range(4):
        await create_organization(db, kind=OrganizationKind.enterprise, verified=False)
    member = await signed_in(role=Role.member)
    assert (await client.get("/api/v1/organizations", headers=member.headers)).status_code == 403

    page = await client.get("/api/v1/organizations?verified=false&limit=3", headers=admin.headers)
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 4 and len(body["items"]) == 3 and body["limit"] == 3
    rest = (
        await client.get("/api/v1/organizations?verified=false&limit=3&offset=3", headers=admin.headers)
    ).json()
    assert len(rest["items"]) == 1
    assert {i["id"] for i in body["items"]}.isdisjoint({i["id"] for i in rest["items"]})
    capped = (await client.get("/api/v1/organizations?limit=1000", headers=admin.headers)).json()
    assert capped["limit"] == 50  # page_size_max of the test settings
