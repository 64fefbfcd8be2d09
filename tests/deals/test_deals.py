"""The deal through the API: a technology manager's lead, who sees a deal (each role), the list,
and edits under If-Match with who may change what."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus
from tests.deals.factory import DealWorld, deal_at, deal_world, etag, move


async def _lead(client: httpx.AsyncClient, w: DealWorld, **body: object) -> httpx.Response:
    return await client.post(
        "/api/v1/deals",
        json={"title": "隔膜技术转让意向", "achievement_id": str(w.achievement.id), **body},
        headers=w.broker.headers,
    )


async def _patch(client: httpx.AsyncClient, who: object, deal_id: object, **body: object) -> httpx.Response:
    return await client.patch(
        f"/api/v1/deals/{deal_id}",
        json=body,
        headers={**who.headers, "If-Match": await etag(client, who, deal_id)},  # type: ignore[attr-defined]
    )


async def test_a_technology_manager_creates_a_lead_they_broker(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    created = await _lead(client, w, buyer_organization_id=str(w.buyer_org.id))
    assert created.status_code == 201, created.text
    deal = created.json()
    assert created.headers["Location"] == f"/api/v1/deals/{deal['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (deal["stage"], deal["stage_label"]) == ("lead", "意向")
    # The achievement's owner is the seller; the technology manager and their agency broker it.
    assert deal["seller_organization_id"] == str(w.seller_org.id)
    assert (deal["broker_user_id"], deal["broker_agency_id"]) == (str(w.broker.user_id), str(w.agency.id))
    assert (deal["sides"], deal["allowed_moves"]) == (["broker"], ["mandated", "on_hold", "lost"])
    audited = await db.scalar(select(AuditEntry.action).where(AuditEntry.object_id == deal["id"]))
    assert audited == "open"

    again = await _lead(client, w, buyer_organization_id=str(w.buyer_org.id), title="另一条线索")
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_deal")
    assert again.json()["duplicate_of"] == {"id": deal["id"], "stage": "lead"}


async def test_only_technology_managers_create_leads_on_published_listings_of_their_owner(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    by_member = await client.post("/api/v1/deals", json={"title": "线索"}, headers=w.buyer.headers)
    assert (by_member.status_code, by_member.json()["code"]) == (403, "role_required")
    draft = Achievement(title="草稿成果", owner_organization_id=w.seller_org.id, status=ListingStatus.draft)
    db.add(draft)
    await db.commit()
    unpublished = await _lead(client, w, achievement_id=str(draft.id))
    assert (unpublished.status_code, unpublished.json()["errors"][0]["field"]) == (422, "achievement_id")
    not_owner = await _lead(client, w, seller_organization_id=str(w.buyer_org.id))
    assert (not_owner.status_code, not_owner.json()["errors"][0]["code"]) == (422, "not_listing_owner")
    same = await client.post(
        "/api/v1/deals",
        json={
            "title": "线索",
            "seller_organization_id": str(w.buyer_org.id),
            "buyer_organization_id": str(w.buyer_org.id),
        },
        headers=w.broker.headers,
    )
    assert (same.status_code, same.json()["errors"][0]["code"]) == (422, "same_party")
    assert (await db.execute(select(Deal))).first() is None
    # A bare lead, no party known yet, is fine.
    bare = await client.post("/api/v1/deals", json={"title": "某企业的电池需求"}, headers=w.broker.headers)
    assert bare.status_code == 201, bare.text


async def test_each_role_sees_the_deal_and_a_stranger_does_not(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    other = await deal_at(db, await deal_world(client, db), DealStage.lead)
    for who, sides in (
        (w.seller, ["seller"]),
        (w.buyer, ["buyer"]),
        (w.broker, ["broker"]),
        (w.admin, ["admin"]),
    ):
        read = await client.get(f"/api/v1/deals/{deal.id}", headers=who.headers)
        assert read.status_code == 200, read.text
        assert read.json()["sides"] == sides
        assert read.headers["ETag"] == f'"{read.json()["version"]}"'
        listed = (await client.get("/api/v1/deals", headers=who.headers)).json()
        expected = {str(deal.id), str(other.id)} if who is w.admin else {str(deal.id)}
        assert {d["id"] for d in listed["items"]} == expected and listed["total"] == len(expected)
        # The counterpart sees who brokers the deal, not the commission the seller pays.
        mandate = next(d for d in listed["items"] if d["id"] == str(deal.id))["mandate"]
        assert mandate["technology_manager_id"] == str(w.broker.user_id)
        assert mandate["commission_rate"] == (None if who is w.buyer else "0.050000")
    hidden = await client.get(f"/api/v1/deals/{deal.id}", headers=w.outsider.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "deal_not_found")
    assert (
        await client.get(f"/api/v1/deals/{deal.id}/history", headers=w.outsider.headers)
    ).status_code == 404
    assert (await client.get("/api/v1/deals", headers=w.outsider.headers)).json()["total"] == 0
    by_stage = await client.get("/api/v1/deals", params={"stage": "lead"}, headers=w.admin.headers)
    assert [d["id"] for d in by_stage.json()["items"]] == [str(other.id)]


async def test_an_edit_needs_the_current_version(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.mandated)
    url = f"/api/v1/deals/{deal.id}"
    bare = await client.patch(url, json={"title": "新标题"}, headers=w.seller.headers)
    assert (bare.status_code, bare.json()["code"]) == (428, "precondition_required")
    version = await etag(client, w.seller, deal.id)
    edited = await client.patch(
        url, json={"title": "新标题"}, headers={**w.seller.headers, "If-Match": version}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "新标题" and edited.json()["version"] == int(version.strip('"')) + 1
    stale = await client.patch(
        url, json={"title": "第三个"}, headers={**w.buyer.headers, "If-Match": version}
    )
    assert (stale.status_code, stale.json()["current_version"]) == (412, edited.json()["version"])
    entry = (
        await db.execute(
            select(AuditEntry).where(AuditEntry.object_id == str(deal.id), AuditEntry.action == "update")
        )
    ).scalar_one()
    assert entry.changes == {"title": [deal.title, "新标题"]}


async def test_who_may_change_what(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.mandated)
    related = await _patch(client, w.broker, deal.id, related_party=True)
    assert (related.status_code, related.json()["code"], related.json()["field"]) == (
        403,
        "admin_only",
        "related_party",
    )
    assert (await _patch(client, w.admin, deal.id, related_party=True)).json()["related_party"] is True
    # The parties are the broker's (or an administrator's) to name; a known one changes only in a lead.
    by_seller = await _patch(client, w.seller, deal.id, buyer_organization_id=str(w.outsider.organization_id))
    assert (by_seller.status_code, by_seller.json()["code"]) == (403, "broker_only")
    swap = await _patch(client, w.broker, deal.id, buyer_organization_id=str(w.outsider.organization_id))
    assert (swap.status_code, swap.json()["code"], swap.json()["field"]) == (
        409,
        "parties_locked",
        "buyer_organization_id",
    )
    row = await db.get(Deal, deal.id)
    assert row is not None
    row.buyer_organization_id = None
    # The listing closed meanwhile: the open deal keeps it, and its missing party may still be named.
    listing = await db.get(Achievement, w.achievement.id)
    assert listing is not None
    listing.status = ListingStatus.closed
    await db.commit()
    filled = await _patch(client, w.broker, deal.id, buyer_organization_id=str(w.outsider.organization_id))
    assert filled.status_code == 200, filled.text
    # The new buyer sees it now; the old one no longer does.
    assert (await client.get(f"/api/v1/deals/{deal.id}", headers=w.outsider.headers)).status_code == 200
    assert (await client.get(f"/api/v1/deals/{deal.id}", headers=w.buyer.headers)).status_code == 404


async def test_signed_terms_are_locked_and_a_closed_deal_is_not_edited(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.signed)
    locked = await _patch(client, w.broker, deal.id, agreed_price="1.00")
    assert (locked.status_code, locked.json()["code"], locked.json()["field"]) == (
        409,
        "terms_locked",
        "agreed_price",
    )
    assert (await _patch(client, w.broker, deal.id, payment_terms="分三期支付")).status_code == 200
    assert (await move(client, w.seller, deal.id, DealStage.lost, reason="合同解除")).status_code == 200
    closed = await _patch(client, w.broker, deal.id, title="x")
    assert (closed.status_code, closed.json()["code"]) == (409, "deal_closed")


async def test_an_agreed_deal_keeps_its_terms(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.agreed)
    cleared = await _patch(client, w.broker, deal.id, agreed_price=None)
    assert (cleared.status_code, cleared.json()["errors"][0]["field"]) == (422, "agreed_price")
    lowered = await _patch(client, w.buyer, deal.id, agreed_price="700000.00")
    assert (lowered.status_code, lowered.json()["agreed_price"]) == (200, "700000.00")


async def test_naming_a_party_that_would_duplicate_an_open_deal_names_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    first = await deal_at(db, w, DealStage.mandated)
    second = await _lead(client, w)  # the same achievement, no buyer yet
    assert second.status_code == 201, second.text
    clash = await _patch(client, w.broker, second.json()["id"], buyer_organization_id=str(w.buyer_org.id))
    assert (clash.status_code, clash.json()["code"]) == (409, "duplicate_deal")
    assert clash.json()["duplicate_of"]["id"] == str(first.id)


async def test_an_administrator_marks_a_registered_deal_related_party_and_nothing_else_moves(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Parties that rush a deal to registration before anyone notices they are related cannot keep
    the reward for it: the administrator's mark still lands on the registered deal, audited, while
    every other field of a closed deal, and any field of a lost one, stays 409 `deal_closed`."""
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.registered)
    for who in (w.seller, w.broker):
        refused = await _patch(client, who, deal.id, related_party=False)
        assert refused.status_code == 403 and refused.json()["code"] == "admin_only", refused.text
    marked = await _patch(client, w.admin, deal.id, related_party=True)
    assert marked.status_code == 200, marked.text
    assert marked.json()["related_party"] is True and marked.json()["stage"] == "registered"
    entry = await db.scalar(
        select(AuditEntry).where(AuditEntry.object_id == str(deal.id), AuditEntry.action == "update")
    )
    assert entry is not None and entry.changes == {"related_party": [False, True]}
    for body in ({"title": "x"}, {"title": "x", "related_party": False}):
        closed = await _patch(client, w.admin, deal.id, **body)
        assert (closed.status_code, closed.json()["code"]) == (409, "deal_closed"), body
    lost = await deal_at(db, w, DealStage.lost)
    closed = await _patch(client, w.admin, lost.id, related_party=True)
    assert (closed.status_code, closed.json()["code"]) == (409, "deal_closed")
    await db.refresh(deal)
    assert deal.related_party is True and deal.title != "x"
