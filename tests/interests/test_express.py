"""Expressing interest: who may, in what, with what input — and nothing written when refused."""

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.deals.models import Interest
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus
from tests.contracts.helpers import person
from tests.deals.factory import deal_world
from tests.fixtures.accounts import create_organization
from tests.interests.helpers import achievement_in, express, expressed, published_demand


async def _interests(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(Interest)) or 0


async def test_a_verified_enterprise_expresses_interest_in_a_published_achievement(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    body = await expressed(client, w.buyer, "achievement", w.achievement.id)
    assert body["status"] == "open" and body["status_label"] == "待答复"
    assert body["listing_kind"] == "achievement" and body["listing_title"] == w.achievement.title
    assert body["organization_id"] == str(w.buyer_org.id)
    assert body["owner_organization_id"] == str(w.seller_org.id)
    assert body["budget_min"] == "500000.00" and body["budget_max"] == "900000.50"
    assert body["filed_by_broker"] is False and body["age_days"] == 0 and body["waiting_since"]
    assert body["contacts"] is None
    stored = await db.get(Interest, uuid.UUID(body["id"]))
    assert stored is not None and stored.submitted_by_id == w.buyer.user_id
    audited = await db.scalar(
        select(func.count()).where(AuditEntry.object_id == body["id"], AuditEntry.action == "expressed")
    )
    assert audited == 1


async def test_an_expressed_interest_answers_where_to_read_it_again(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A newcomer looked for the new interest's address as deals and listings give it (Location)."""
    w = await deal_world(client, db)
    response = await express(client, w.buyer, "achievement", w.achievement.id)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == f"/api/v1/interests/{response.json()['id']}"
    again = await client.get(location, headers=w.buyer.headers)
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


async def test_a_university_expresses_interest_in_an_enterprises_demand(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    demand = await published_demand(db, w.buyer_org)
    body = await expressed(client, w.seller, "demand", demand.id)
    assert body["listing_kind"] == "demand" and body["owner_organization_id"] == str(w.buyer_org.id)
    assert body["organization_id"] == str(w.seller_org.id)


async def test_a_member_of_an_unverified_organization_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    unverified = await create_organization(db, kind=OrganizationKind.enterprise, verified=False)
    newcomer = await person(client, db, Role.member, unverified)
    response = await express(client, newcomer, "achievement", w.achievement.id)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "organization_not_verified"
    assert await _interests(db) == 0


async def test_administrators_do_not_express_interest(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    response = await express(client, w.admin, "achievement", w.achievement.id)
    assert response.status_code == 403 and response.json()["code"] == "role_required"
    assert (await express(client, w.admin, "achievement", w.achievement.id)).status_code == 403
    anonymous = await client.post(f"/api/v1/achievements/{w.achievement.id}/interests", json={})
    assert anonymous.status_code == 401


async def test_another_organizations_draft_or_nothing_at_all_is_not_found(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    draft = await achievement_in(db, w.seller_org, ListingStatus.draft, "未发布的成果")
    for listing_id in (draft.id, uuid.uuid4()):
        response = await express(client, w.buyer, "achievement", listing_id)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "listing_not_found"
    # A demand's id is not an achievement's.
    demand = await published_demand(db, w.seller_org)
    assert (await express(client, w.buyer, "achievement", demand.id)).status_code == 404
    assert await _interests(db) == 0


async def test_closed_expired_or_taken_down_listings_are_not_open(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    for status in (ListingStatus.closed, ListingStatus.expired, ListingStatus.taken_down):
        listing = await achievement_in(db, w.seller_org, status, f"成果 {status}")
        response = await express(client, w.buyer, "achievement", listing.id)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "listing_not_open"
        assert response.json()["current_status"] == status.value
    assert await _interests(db) == 0


async def test_own_listing_is_refused_even_as_a_draft(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    draft = await achievement_in(db, w.seller_org, ListingStatus.draft, "自己的草稿")
    for listing_id in (w.achievement.id, draft.id):
        response = await express(client, w.seller, "achievement", listing_id)
        assert response.status_code == 409 and response.json()["code"] == "own_listing"
    demand = await published_demand(db, w.buyer_org)
    response = await express(client, w.buyer, "demand", demand.id)
    assert response.status_code == 409 and response.json()["code"] == "own_listing"
    assert await _interests(db) == 0


async def test_budget_range_and_amounts_are_checked_naming_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    reversed_range = await express(
        client, w.buyer, "achievement", w.achievement.id, budget_min="900000", budget_max="1"
    )
    assert reversed_range.status_code == 422, reversed_range.text
    assert reversed_range.json()["errors"][0]["field"] == "budget_max"
    assert reversed_range.json()["errors"][0]["code"] == "budget_range"
    negative = await express(client, w.buyer, "achievement", w.achievement.id, budget_min="-1")
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "budget_min"
    fraction = await express(client, w.buyer, "achievement", w.achievement.id, budget_max="1.001")
    assert fraction.status_code == 422 and fraction.json()["errors"][0]["field"] == "budget_max"
    empty_use = await express(client, w.buyer, "achievement", w.achievement.id, intended_use="")
    assert empty_use.status_code == 422 and empty_use.json()["errors"][0]["field"] == "intended_use"
    unknown = await express(client, w.buyer, "achievement", w.achievement.id, price="1")
    assert unknown.status_code == 422
    assert await _interests(db) == 0
    # Equal bounds, or only one, are a range.
    assert (
        await express(client, w.buyer, "achievement", w.achievement.id, budget_min="5", budget_max="5")
    ).status_code == 201


async def test_one_open_interest_per_organization_and_listing_names_the_open_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    first = await expressed(client, w.buyer, "achievement", w.achievement.id)
    colleague = await person(client, db, Role.member, w.buyer_org)
    again = await express(client, colleague, "achievement", w.achievement.id)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "duplicate_interest"
    assert again.json()["duplicate_of"] == {"id": first["id"], "status": "open"}
    # Once withdrawn, a new one may be filed.
    withdrawn = await client.post(f"/api/v1/interests/{first['id']}/withdraw", headers=w.buyer.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await express(client, colleague, "achievement", w.achievement.id)).status_code == 201


async def test_parallel_double_clicks_leave_one_interest(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    responses = await asyncio.gather(
        *(express(client, w.buyer, "achievement", w.achievement.id) for _ in range(8))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    assert await _interests(db) == 1


async def test_a_technology_manager_files_for_a_verified_client(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    body = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    assert body["organization_id"] == str(w.buyer_org.id) and body["filed_by_broker"] is True
    stored = await db.get(Interest, uuid.UUID(body["id"]))
    assert stored is not None and stored.on_behalf_broker_id == w.broker.user_id
    # The client's own interest now is the same organization's second one.
    again = await express(client, w.buyer, "achievement", w.achievement.id)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_interest"
    # Both the client and the manager see it among what they sent.
    for who in (w.buyer, w.broker):
        sent = (await client.get("/api/v1/interests/sent", headers=who.headers)).json()
        assert [item["id"] for item in sent["items"]] == [body["id"]]


async def test_filing_for_a_client_needs_a_technology_manager_and_a_verified_client(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    as_member = await express(
        client, w.outsider, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    assert as_member.status_code == 403 and as_member.json()["code"] == "on_behalf_requires_tech_manager"
    missing = await express(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(uuid.uuid4())
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0] == {
        "field": "on_behalf_of_organization_id",
        "code": "organization_not_found",
        "message": "机构不存在",
    }
    unverified = await create_organization(db, kind=OrganizationKind.enterprise, verified=False)
    response = await express(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(unverified.id)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "organization_not_verified"
    # Nor for the listing's owner itself.
    own = await express(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.seller_org.id)
    )
    assert own.status_code == 409 and own.json()["code"] == "own_listing"
    assert await _interests(db) == 0


async def test_a_university_technology_manager_cannot_file_on_its_own_universitys_listing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    insider = await person(client, db, Role.tech_manager, w.seller_org)
    response = await express(
        client, insider, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    assert response.status_code == 409 and response.json()["code"] == "own_listing"
    assert await db.scalar(select(func.count()).select_from(Achievement)) == 1
    assert await _interests(db) == 0
