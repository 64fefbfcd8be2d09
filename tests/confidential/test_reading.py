"""Who reads a listing's confidential details: the owner, administrators, and in a deal its
counterpart and broker only after the owner's approval and their own undertaking for the current
version; everyone else is told there are none."""

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.audit.service import SystemActor
from app.deals import service as deals
from app.deals.vocabulary import DealStage
from app.listings.models import Demand
from app.listings.vocabulary import ListingStatus
from tests.confidential.helpers import approve, details_url, undertake, write
from tests.contracts.helpers import person
from tests.deals.factory import deal_at, deal_world

SECRET = "工艺窗口：涂覆温度 183 ℃，浆料固含量 41 %。"


async def _reads(client: httpx.AsyncClient, who, listing_id, **params) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.get(details_url(listing_id), params=params, headers=who.headers)


async def test_a_counterpart_reads_only_after_approval_and_an_undertaking_for_the_current_version(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    listing = w.achievement.id
    assert (await write(client, w.seller, listing, SECRET))["version"] == 1

    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "disclosure_not_approved"
    early = await undertake(client, w.buyer, deal.id, listing, 1)
    assert early.status_code == 403 and early.json()["code"] == "disclosure_not_approved"

    approved = await approve(client, w.seller, deal.id, listing)
    assert approved.status_code == 201, approved.text
    again = await approve(client, w.seller, deal.id, listing)
    assert again.status_code == 200 and again.json()["id"] == approved.json()["id"]

    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "undertaking_required"
    assert refused.json()["current_version"] == 1 and refused.json()["undertaken_version"] is None

    given = await undertake(client, w.buyer, deal.id, listing, 1)
    assert given.status_code == 201, given.text
    assert given.json()["capacity"] == "counterpart" and given.json()["details_version"] == 1
    read = await _reads(client, w.buyer, listing)
    assert read.status_code == 200, read.text
    assert read.json()["text"] == SECRET
    assert read.json()["access"] == "counterpart" and read.json()["deal_id"] == str(deal.id)
    assert read.headers["Cache-Control"] == "no-store"

    # The undertaking is the user's, not their organization's.
    colleague = await person(client, db, Role.member, w.buyer_org)
    refused = await _reads(client, colleague, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "undertaking_required"

    # A new version needs a new undertaking; one for the old version is refused.
    assert (await write(client, w.seller, listing, SECRET + "（修订）"))["version"] == 2
    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "undertaking_required"
    assert refused.json()["current_version"] == 2 and refused.json()["undertaken_version"] == 1
    stale = await undertake(client, w.buyer, deal.id, listing, 1)
    assert stale.status_code == 409 and stale.json()["code"] == "details_version_changed"
    assert stale.json()["current_version"] == 2
    assert (await undertake(client, w.buyer, deal.id, listing, 2)).status_code == 201
    assert (await _reads(client, w.buyer, listing)).json()["text"].endswith("（修订）")

    # Each counterpart read is audited: who, which version, through which deal.
    reads = (
        await db.execute(
            select(AuditEntry.actor_user_id, AuditEntry.changes).where(
                AuditEntry.object_type == "confidential_details", AuditEntry.action == "read"
            )
        )
    ).all()
    assert [(actor, changes["version"], changes["deal_id"]) for actor, changes in reads] == [
        (w.buyer.user_id, 1, str(deal.id)),
        (w.buyer.user_id, 2, str(deal.id)),
    ]
    undertakings = await client.get(f"/api/v1/deals/{deal.id}/undertakings", headers=w.seller.headers)
    assert [(u["user_id"], u["details_version"]) for u in undertakings.json()["items"]] == [
        (str(w.buyer.user_id), 1),
        (str(w.buyer.user_id), 2),
    ]


async def test_owner_admin_broker_and_strangers(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.diligence)
    listing = w.achievement.id
    await write(client, w.seller, listing, SECRET)

    owner = await _reads(client, w.seller, listing)
    assert owner.status_code == 200 and owner.json()["access"] == "owner" and owner.headers["ETag"] == '"1"'
    admin = await _reads(client, w.admin, listing)
    assert admin.status_code == 200 and admin.json()["access"] == "admin"
    stranger = await _reads(client, w.outsider, listing)
    assert stranger.status_code == 404 and stranger.json()["code"] == "confidential_details_not_found"
    assert (await client.get(details_url(listing))).status_code == 401

    # The broker is bound by art. 30, and still reads only with the approval and their own undertaking.
    await approve(client, w.seller, deal.id, listing)
    refused = await _reads(client, w.broker, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "undertaking_required"
    assert (await undertake(client, w.broker, deal.id, listing, 1)).json()["capacity"] == "broker"
    broker = await _reads(client, w.broker, listing)
    assert broker.status_code == 200 and broker.json()["access"] == "broker"

    audited = (
        await db.execute(
            select(AuditEntry.actor_user_id, AuditEntry.changes["access"].astext).where(
                AuditEntry.object_type == "confidential_details", AuditEntry.action == "read"
            )
        )
    ).all()
    # The owner's own reads are no event; the administrator's and the broker's are.
    assert sorted(audited) == sorted([(w.admin.user_id, "admin"), (w.broker.user_id, "broker")])

    # A stranger can neither approve, nor undertake, nor see the deal's disclosures.
    assert (await approve(client, w.outsider, deal.id, listing)).status_code == 404
    assert (await undertake(client, w.outsider, deal.id, listing, 1)).status_code == 404
    listed = await client.get(f"/api/v1/deals/{deal.id}/disclosures", headers=w.outsider.headers)
    assert listed.status_code == 404 and listed.json()["code"] == "deal_not_found"


async def test_only_the_owner_approves_and_revokes_and_revoking_ends_reading(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    listing = w.achievement.id
    await write(client, w.seller, listing, SECRET)
    for who in (w.buyer, w.broker, w.admin):
        refused = await approve(client, who, deal.id, listing)
        assert refused.status_code == 403 and refused.json()["code"] == "not_listing_owner"
    elsewhere = await approve(client, w.seller, deal.id, deal.id)
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "listing_id"
    seller_undertakes = await undertake(client, w.seller, deal.id, listing, 1)
    assert seller_undertakes.status_code == 403 and seller_undertakes.json()["code"] == "not_counterpart"

    disclosure = (await approve(client, w.seller, deal.id, listing)).json()
    await undertake(client, w.buyer, deal.id, listing, 1)
    assert (await _reads(client, w.buyer, listing)).status_code == 200

    url = f"/api/v1/deals/{deal.id}/disclosures/{disclosure['id']}"
    assert (await client.delete(url, headers=w.buyer.headers)).status_code == 403
    assert (await client.delete(url, headers=w.seller.headers)).status_code == 204
    twice = await client.delete(url, headers=w.seller.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "disclosure_revoked"
    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "disclosure_not_approved"

    listed = (await client.get(f"/api/v1/deals/{deal.id}/disclosures", headers=w.buyer.headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["revoked_by_id"] == str(w.seller.user_id)
    actions = (
        await db.execute(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "deal_disclosure")
            .order_by(AuditEntry.id)
        )
    ).scalars()
    assert list(actions) == ["approved", "revoked"]

    # Approved again, the existing undertaking for the version still holds.
    assert (await approve(client, w.seller, deal.id, listing)).status_code == 201
    assert (await _reads(client, w.buyer, listing)).status_code == 200


async def test_a_lost_deal_discloses_nothing_more(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    listing = w.achievement.id
    await write(client, w.seller, listing, SECRET)
    await approve(client, w.seller, deal.id, listing)
    await undertake(client, w.buyer, deal.id, listing, 1)
    assert (await _reads(client, w.buyer, listing)).status_code == 200

    await deals.enter_stage(db, deal, DealStage.lost, actor=SystemActor(), reason="预算取消")
    await db.commit()
    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "deal_closed"
    late = await approve(client, w.seller, deal.id, listing)
    assert late.status_code == 409 and late.json()["code"] == "deal_closed"

    # A new deal between the same sides starts from nothing: its own approval, its own undertaking.
    second = await deals.open_deal(
        db,
        actor=SystemActor(),
        title="再次洽谈",
        seller_organization_id=w.seller_org.id,
        buyer_organization_id=w.buyer_org.id,
        achievement_id=listing,
    )
    await db.commit()
    refused = await _reads(client, w.buyer, listing)
    assert refused.status_code == 403 and refused.json()["code"] == "disclosure_not_approved"
    assert refused.json()["deal_id"] == str(second.id)


async def test_a_demand_s_details_open_to_the_seller_in_its_deal(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    demand = Demand(
        title="锂电池极片涂布缺陷在线检测",
        description="需要在线检测涂布缺陷。",
        owner_organization_id=w.buyer_org.id,
        status=ListingStatus.published,
    )
    db.add(demand)
    await db.commit()
    deal = await deals.open_deal(
        db,
        actor=SystemActor(),
        title=demand.title,
        seller_organization_id=w.seller_org.id,
        buyer_organization_id=w.buyer_org.id,
        demand_id=demand.id,
    )
    await db.commit()
    assert w.buyer_org.kind is OrganizationKind.enterprise
    await write(client, w.buyer, demand.id, "产线节拍 12 m/min，缺陷样本见附件。", kind="demands")
    url = details_url(demand.id, "demands")
    assert (await client.get(url, headers=w.seller.headers)).json()["code"] == "disclosure_not_approved"
    assert (await approve(client, w.buyer, deal.id, demand.id, kind="demand")).status_code == 201
    assert (await undertake(client, w.seller, deal.id, demand.id, 1, kind="demand")).status_code == 201
    read = await client.get(url, headers=w.seller.headers, params={"deal_id": str(deal.id)})
    assert read.status_code == 200 and read.json()["access"] == "counterpart"
