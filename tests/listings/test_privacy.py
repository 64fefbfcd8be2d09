"""What anonymous callers, members and owners see — the same in detail and list views."""

from sqlalchemy import select

from app.accounts.models import OrganizationKind, Role
from app.listings.models import Achievement
from app.listings.policy import public_view

CONTACT = [{"name": "李老师", "phone": "025-83590000", "email": "li@nju.edu.cn"}]


async def _views(client, path, listing_id, *who):
    detail = [(await client.get(f"/api/v1/{path}/{listing_id}", headers=h)).json() for h in who]
    listed = [(await client.get(f"/api/v1/{path}", headers=h)).json()["items"][0] for h in who]
    return detail, listed


async def test_contacts_reach_verified_members_only(client, owner, signed_in, make_listing):
    who = await owner("achievements")
    member = await signed_in(kind=OrganizationKind.enterprise)
    unverified = await signed_in(kind=OrganizationKind.enterprise, verified=False)
    listing = await make_listing("achievements", who, contacts=CONTACT)
    detail, listed = await _views(
        client, "achievements", listing["id"], {}, unverified.headers, member.headers
    )
    for views in (detail, listed):
        anonymous, stranger, verified = views
        assert anonymous["contacts"] is None and "025-83590000" not in str(anonymous)
        assert stranger["contacts"] is None
        assert verified["contacts"][0]["phone"] == "025-83590000"
        assert anonymous["owner_organization_name"] == who.user.organization.name


async def test_confidential_demand_hides_the_company(client, owner, signed_in, make_listing):
    company = await owner("demands")
    member = await signed_in(kind=OrganizationKind.university)
    admin = await signed_in(role=Role.admin)
    listing = await make_listing("demands", company, confidential=True, contacts=CONTACT)
    detail, listed = await _views(
        client, "demands", listing["id"], {}, member.headers, company.headers, admin.headers
    )
    for views in (detail, listed):
        anonymous, verified, own, administrator = views
        for outsider in (anonymous, verified):
            assert outsider["owner_organization_id"] is None
            assert outsider["owner_organization_name"] is None
            assert outsider["contacts"] is None
            assert company.user.organization.name not in str(outsider)
        assert own["owner_organization_name"] == company.user.organization.name
        assert administrator["contacts"][0]["name"] == "李老师"


async def test_expert_phone_and_email_never_public(client, owner, signed_in, make_listing):
    expert = await owner("experts")
    member = await signed_in(kind=OrganizationKind.enterprise)
    listing = await make_listing("experts", expert, phone="13800000000", email="zhang@nju.edu.cn")
    detail, listed = await _views(client, "experts", listing["id"], {}, member.headers)
    for anonymous, verified in (detail, listed):
        assert anonymous["phone"] is None and anonymous["email"] is None
        assert "13800000000" not in str(anonymous) and "zhang@nju.edu.cn" not in str(anonymous)
        assert verified["phone"] == "13800000000"


async def test_public_view_leaves_hidden_fields_out(db, owner, make_listing):
    who = await owner("achievements")
    listing = await make_listing("achievements", who, contacts=CONTACT)
    row = (await db.execute(select(Achievement).where(Achievement.id == listing["id"]))).scalar_one()
    view = public_view("achievement", row)
    assert "contacts" not in view and "created_by_id" not in view and "status_reason" not in view
    assert view["title"] == listing["title"] and view["kind"] == "achievement"


async def test_anonymous_lists_show_published_only(client, owner, make_listing):
    who = await owner("achievements")
    await make_listing("achievements", who, publish=False, title="草稿成果")
    await make_listing("achievements", who, title="已发布成果")
    public = (await client.get("/api/v1/achievements")).json()
    assert [i["title"] for i in public["items"]] == ["已发布成果"]
    mine = (await client.get("/api/v1/achievements?owner=me", headers=who.headers)).json()
    assert sorted(i["title"] for i in mine["items"]) == ["已发布成果", "草稿成果"]
    assert (await client.get("/api/v1/achievements?owner=me")).status_code == 422
