"""Who may create, edit, publish, close and take down, per role and organization."""

import asyncio

import pytest
from sqlalchemy import select

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.listings.models import Achievement, Agency, Demand, Expert
from tests.listings.conftest import KINDS, MINIMAL, counts

MODELS = {"achievements": Achievement, "demands": Demand, "experts": Expert, "agencies": Agency}


async def test_anonymous_cannot_create(client, db):
    before = await counts(db, Achievement)
    response = await client.post("/api/v1/achievements", json=MINIMAL["achievements"])
    assert response.status_code == 401
    assert await counts(db, Achievement) == before


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("demands", OrganizationKind.university),
        ("agencies", OrganizationKind.university),
        ("achievements", OrganizationKind.agency),
        ("agencies", OrganizationKind.enterprise),
    ],
)
async def test_organization_kind_decides_what_it_may_own(client, db, signed_in, path, kind):
    who = await signed_in(kind=kind)
    before = await counts(db, MODELS[path])
    response = await client.post(f"/api/v1/{path}", json=MINIMAL[path], headers=who.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "organization_kind_not_allowed"
    assert await counts(db, MODELS[path]) == before


async def test_registration_officer_cannot_create(client, signed_in):
    officer = await signed_in(role=Role.registration_officer)
    response = await client.post(
        "/api/v1/achievements", json=MINIMAL["achievements"], headers=officer.headers
    )
    assert response.status_code == 403


async def test_tech_manager_of_a_university_publishes_its_achievements(client, signed_in, make_listing):
    manager = await signed_in(role=Role.tech_manager, kind=OrganizationKind.university)
    listing = await make_listing("achievements", manager)
    assert listing["status"] == "published"


async def test_tech_manager_of_an_agency_keeps_its_agency_listing(client, signed_in, make_listing):
    manager = await signed_in(role=Role.tech_manager, kind=OrganizationKind.agency)
    listing = await make_listing("agencies", manager)
    assert listing["status"] == "published"


@pytest.mark.parametrize("path", KINDS)
async def test_unverified_organization_drafts_but_cannot_publish(client, db, owner, make_listing, path):
    who = await owner(path, verified=False)
    draft = await make_listing(path, who, publish=False)
    before = await counts(db, MODELS[path])
    response = await client.post(f"/api/v1/{path}/{draft['id']}/publish", headers=who.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "organization_not_verified"
    assert await counts(db, MODELS[path]) == before
    mine = await client.get(f"/api/v1/{path}/{draft['id']}", headers=who.headers)
    assert mine.json()["status"] == "draft"


@pytest.mark.parametrize("path", KINDS)
async def test_member_of_another_organization_cannot_change_it(client, db, owner, make_listing, path):
    who = await owner(path)
    stranger = await owner(path)
    listing = await make_listing(path, who)
    before = await counts(db, MODELS[path])
    for method, url, body in (
        ("PATCH", f"/api/v1/{path}/{listing['id']}", {"keywords": ["改"]}),
        ("POST", f"/api/v1/{path}/{listing['id']}/close", None),
    ):
        response = await client.request(method, url, json=body, headers=stranger.headers)
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["field"] == "id"
    assert await counts(db, MODELS[path]) == before
    unchanged = await client.get(f"/api/v1/{path}/{listing['id']}")
    assert unchanged.json()["version"] == listing["version"]
    assert unchanged.json()["status"] == "published"


async def test_drafts_of_others_are_not_found(client, owner, make_listing):
    who = await owner("achievements")
    stranger = await owner("achievements")
    draft = await make_listing("achievements", who, publish=False)
    assert (await client.get(f"/api/v1/achievements/{draft['id']}")).status_code == 404
    assert (
        await client.get(f"/api/v1/achievements/{draft['id']}", headers=stranger.headers)
    ).status_code == 404
    response = await client.post(f"/api/v1/achievements/{draft['id']}/publish", headers=stranger.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("path", KINDS)
async def test_admin_takes_down_with_a_reason_the_owner_sees(
    client, db, owner, signed_in, make_listing, path
):
    who = await owner(path)
    admin = await signed_in(role=Role.admin)
    listing = await make_listing(path, who)
    response = await client.post(
        f"/api/v1/{path}/{listing['id']}/take-down", json={"reason": "信息不实"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "taken_down"
    assert (await client.get(f"/api/v1/{path}/{listing['id']}")).status_code == 404
    seen = (await client.get(f"/api/v1/{path}/{listing['id']}", headers=who.headers)).json()
    assert seen["status_reason"] == "信息不实"
    audit = (
        await db.execute(
            select(AuditEntry).where(AuditEntry.object_id == listing["id"], AuditEntry.action == "taken_down")
        )
    ).scalar_one()
    assert audit.changes["reason"] == "信息不实" and audit.actor_user_id == admin.user.id
    # The owner cannot simply re-publish it: an edit returns it to draft first.
    again = await client.post(f"/api/v1/{path}/{listing['id']}/publish", headers=who.headers)
    assert again.status_code == 409
    assert again.json()["status"] == 409 and again.json()["current_status"] == "taken_down"
    edited = await client.patch(
        f"/api/v1/{path}/{listing['id']}", json={"keywords": ["已更正"]}, headers=who.headers
    )
    assert edited.json()["status"] == "draft"
    republished = await client.post(f"/api/v1/{path}/{listing['id']}/publish", headers=who.headers)
    assert republished.json()["status"] == "published" and republished.json()["status_reason"] is None


async def test_take_down_needs_an_admin_and_a_reason(client, db, owner, signed_in, make_listing):
    who = await owner("achievements")
    listing = await make_listing("achievements", who)
    response = await client.post(
        f"/api/v1/achievements/{listing['id']}/take-down", json={"reason": "自己下架"}, headers=who.headers
    )
    assert response.status_code == 403
    admin = await signed_in(role=Role.admin)
    response = await client.post(
        f"/api/v1/achievements/{listing['id']}/take-down", json={}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    assert (await client.get(f"/api/v1/achievements/{listing['id']}")).json()["status"] == "published"


async def test_admin_cannot_publish_or_close_an_organizations_listing(client, owner, signed_in, make_listing):
    who = await owner("achievements")
    admin = await signed_in(role=Role.admin)
    draft = await make_listing("achievements", who, publish=False)
    assert (
        await client.post(f"/api/v1/achievements/{draft['id']}/publish", headers=admin.headers)
    ).status_code == 403


async def test_owner_closes_and_revises(client, owner, make_listing):
    who = await owner("demands")
    listing = await make_listing("demands", who)
    closed = await client.post(f"/api/v1/demands/{listing['id']}/close", headers=who.headers)
    assert closed.json()["status"] == "closed"
    assert (
        await client.post(f"/api/v1/demands/{listing['id']}/close", headers=who.headers)
    ).status_code == 409
    revised = await client.patch(
        f"/api/v1/demands/{listing['id']}", json={"title": "新的需求标题"}, headers=who.headers
    )
    assert revised.json()["status"] == "draft"
    assert (
        await client.post(f"/api/v1/demands/{listing['id']}/publish", headers=who.headers)
    ).status_code == 200


async def test_expert_profile_is_kept_by_the_expert_or_an_admin(client, signed_in, make_listing):
    expert = await signed_in(kind=OrganizationKind.university)
    colleague = await signed_in(organization=expert.user.organization)
    admin = await signed_in(role=Role.admin)
    profile = await make_listing("experts", expert)
    assert profile["user_id"] == str(expert.user.id)
    url = f"/api/v1/experts/{profile['id']}"
    assert (
        await client.patch(url, json={"institution": "南京大学"}, headers=colleague.headers)
    ).status_code == 403
    assert (
        await client.patch(url, json={"institution": "南京大学"}, headers=admin.headers)
    ).status_code == 200
    assert (
        await client.patch(url, json={"professional_title": "教授"}, headers=expert.headers)
    ).status_code == 200
    second = await client.post("/api/v1/experts", json=MINIMAL["experts"], headers=expert.headers)
    assert second.status_code == 409


async def test_admin_maintains_experts_without_accounts(client, signed_in):
    admin = await signed_in(role=Role.admin)
    created = await client.post("/api/v1/experts", json=MINIMAL["experts"], headers=admin.headers)
    assert created.status_code == 201
    published = await client.post(f"/api/v1/experts/{created.json()['id']}/publish", headers=admin.headers)
    assert published.status_code == 200 and published.json()["status"] == "published"


async def test_only_never_published_drafts_are_deleted(client, db, owner, make_listing):
    who = await owner("achievements")
    draft = await make_listing("achievements", who, publish=False)
    live = await make_listing("achievements", who)
    assert (await client.delete(f"/api/v1/achievements/{live['id']}", headers=who.headers)).status_code == 409
    assert (
        await client.delete(f"/api/v1/achievements/{draft['id']}", headers=who.headers)
    ).status_code == 204
    remaining = (await db.execute(select(Achievement.id))).scalars().all()
    assert [str(i) for i in remaining] == [live["id"]]
    deleted = (await db.execute(select(AuditEntry).where(AuditEntry.action == "deleted"))).scalar_one()
    assert deleted.object_id == draft["id"]


async def test_one_expert_profile_per_account_even_from_simultaneous_requests(client, db, owner):
    who = await owner("experts")
    before = await counts(db, Expert)
    responses = await asyncio.gather(
        *(client.post("/api/v1/experts", json=MINIMAL["experts"], headers=who.headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 4
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"expert_profile_exists"}
    # One profile, one audit entry, one outbox row: the refused requests wrote nothing.
    assert [b + 1 for b in before] == list(await counts(db, Expert))
    again = await client.post("/api/v1/experts", json=MINIMAL["experts"], headers=who.headers)
    assert again.status_code == 409
