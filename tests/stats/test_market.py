"""The market statistics (docs/deals.md): detail views, one listing's figures, the brokers'
figures and the funnel, each on a small hand-computed set; who may read which; and the fast path
equal to the naive one (stage events) on a random set.

Interests are written as rows: their routes belong to another part of the deals issue, and these
tests need only what the statistics read."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role, User
from app.audit.service import SystemActor
from app.core.pagination import PageParams
from app.core.types import today_in_china
from app.deals import service
from app.deals.models import Deal, Interest, ListingView
from app.deals.vocabulary import DealStage, DeclineReason, InterestStatus
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus
from app.stats import market_queries as queries
from app.stats.market import scope_of
from app.stats.models import Grain, MarketBrokerFigures, MarketFunnelDay, MarketFunnelMonth
from tests.contracts.helpers import person
from tests.deals.factory import PATH, DealWorld, deal_at, deal_world, published_achievement
from tests.fixtures.accounts import create_organization

NOW = datetime.now(UTC)
# Every broker of these small worlds on one page.
ALL = PageParams(limit=1000, offset=0)


async def draft(db: AsyncSession, w: DealWorld) -> Achievement:
    achievement = await published_achievement(db, w.seller_org, title="未发布的成果")
    achievement.status = ListingStatus.draft
    await db.commit()
    return achievement


def interest(w: DealWorld, **fields: object) -> Interest:
    return Interest(
        achievement_id=fields.pop("achievement_id", w.achievement.id),
        owner_organization_id=fields.pop("owner_organization_id", w.seller_org.id),
        organization_id=fields.pop("organization_id", w.buyer_org.id),
        **fields,
    )


async def test_a_view_counts_once_per_organization_and_day_never_the_owner_nor_anonymous(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    url = f"/api/v1/achievements/{w.achievement.id}"
    for headers in (w.outsider.headers, w.outsider.headers, w.buyer.headers, w.seller.headers, {}):
        assert (await client.get(url, headers=headers)).status_code == 200

    rows = (await db.execute(select(ListingView))).scalars().all()
    assert {(r.listing_kind, r.listing_id, r.day, r.organization_id) for r in rows} == {
        ("achievement", w.achievement.id, today_in_china(), w.outsider.organization_id),
        ("achievement", w.achievement.id, today_in_china(), w.buyer.organization_id),
    }
    figures = (
        await client.get(f"/api/v1/market/listings/achievement/{w.achievement.id}", headers=w.seller.headers)
    ).json()
    assert figures["views"] == {
        "total": 2,
        "organizations": 2,
        "by_day": [{"day": today_in_china().isoformat(), "organizations": 2}],
    }
    # Another day's view of one of them: two organizations, three organization-days.
    db.add(
        ListingView(
            listing_kind="achievement",
            listing_id=w.achievement.id,
            day=date(2026, 1, 5),
            organization_id=w.buyer.organization_id,
        )
    )
    await db.commit()
    figures = (
        await client.get(f"/api/v1/market/listings/achievement/{w.achievement.id}", headers=w.seller.headers)
    ).json()
    assert (figures["views"]["total"], figures["views"]["organizations"]) == (3, 2)
    later = (
        await client.get(
            f"/api/v1/market/listings/achievement/{w.achievement.id}?from=2026-01-06",
            headers=w.seller.headers,
        )
    ).json()
    assert (later["views"]["total"], later["views"]["organizations"]) == (2, 2)


async def test_a_draft_opened_by_an_administrator_is_not_a_view(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    hidden = await draft(db, w)
    assert (await client.get(f"/api/v1/achievements/{hidden.id}", headers=w.admin.headers)).status_code == 200
    assert await db.scalar(select(func.count()).select_from(ListingView)) == 0


async def test_one_listings_figures(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    registered = await deal_at(db, w, DealStage.registered)
    registered.registered_contract_amount = Decimal("800000.00")
    registered.registered_technology_amount = Decimal("760000.55")
    await db.commit()
    await deal_at(db, w, DealStage.negotiating)
    others = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(5)]
    declined = InterestStatus.declined
    db.add_all(
        [
            interest(w, status=InterestStatus.accepted, deal_id=registered.id),
            interest(w, organization_id=others[0].id, status=declined, decline_reason=DeclineReason.price),
            interest(w, organization_id=others[1].id, status=declined, decline_reason=DeclineReason.price),
            interest(w, organization_id=others[2].id, status=declined, decline_reason=DeclineReason.timing),
            interest(w, organization_id=others[3].id, status=InterestStatus.withdrawn),
            interest(w, organization_id=others[4].id),
        ]
    )
    await db.commit()

    response = await client.get(
        f"/api/v1/market/listings/achievement/{w.achievement.id}", headers=w.seller.headers
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["interests"] == {
        "total": 6,
        "open": 1,
        "accepted": 1,
        "declined": 3,
        "withdrawn": 1,
        "declined_by_reason": {
            reason.value: {"price": 2, "timing": 1}.get(reason.value, 0) for reason in DeclineReason
        },
    }
    assert figures["deals"] == 2
    assert {k: v for k, v in figures["deals_by_stage"].items() if v} == {"registered": 1, "negotiating": 1}
    assert figures["registered_deals"] == 1
    assert figures["registered_contract_amount"] == "800000.00"
    assert figures["registered_technology_amount"] == "760000.55"


async def test_only_the_owner_and_administrators_read_a_listings_figures(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    url = f"/api/v1/market/listings/achievement/{w.achievement.id}"
    assert (await client.get(url, headers=w.seller.headers)).status_code == 200
    assert (await client.get(url, headers=w.admin.headers)).status_code == 200
    assert (await client.get(url)).status_code == 401
    for stranger in (w.outsider, w.buyer, w.broker):
        response = await client.get(url, headers=stranger.headers)
        assert (response.status_code, response.json()["code"]) == (403, "not_listing_owner")
    # A listing the caller cannot see at all does not exist for them; nor does one of another kind.
    hidden = await draft(db, w)
    response = await client.get(
        f"/api/v1/market/listings/achievement/{hidden.id}", headers=w.outsider.headers
    )
    assert (response.status_code, response.json()["code"]) == (404, "listing_not_found")
    response = await client.get(
        f"/api/v1/market/listings/demand/{w.achievement.id}", headers=w.seller.headers
    )
    assert (response.status_code, response.json()["code"]) == (404, "listing_not_found")
    response = await client.get(
        f"/api/v1/market/listings/expert/{w.achievement.id}", headers=w.seller.headers
    )
    assert response.status_code == 422


async def funnel_world(client: httpx.AsyncClient, db: AsyncSession) -> tuple[DealWorld, list[Deal]]:
    """Three deals on the world's achievement (registered, lost at negotiating, agreed) and four
    interests in it (two accepted, one declined, one open)."""
    w = await deal_world(client, db)
    deals = [
        await deal_at(db, w, DealStage.registered),
        await deal_at(db, w, DealStage.lost),
        await deal_at(db, w, DealStage.agreed),
    ]
    others = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(3)]
    db.add_all(
        [
            interest(w, status=InterestStatus.accepted, deal_id=deals[0].id),
            interest(w, organization_id=others[0].id, status=InterestStatus.accepted, deal_id=deals[2].id),
            interest(
                w,
                organization_id=others[1].id,
                status=InterestStatus.declined,
                decline_reason=DeclineReason.other,
            ),
            interest(w, organization_id=others[2].id),
        ]
    )
    await db.commit()
    return w, deals


def steps(body: dict) -> list[tuple[str, int, str | None]]:
    return [(s["step"], s["count"], s["rate"]) for s in body["steps"]]


async def test_the_funnel_of_a_region_and_period(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w, deals = await funnel_world(client, db)
    response = await client.get("/api/v1/market/funnel?region=32", headers=w.outsider.headers)
    assert response.status_code == 200, response.text
    assert steps(response.json()) == [
        ("interests", 4, None),
        ("accepted", 2, "0.5"),
        ("deals", 3, "1.5"),
        ("mandated", 3, "1"),
        ("agreed", 2, "0.6666666666666666666666666666"),
        ("signed", 1, "0.5"),
        ("registered", 1, "1"),
    ]
    # Another province: nothing, and no rate from nothing.
    other = (await client.get("/api/v1/market/funnel?region=36", headers=w.outsider.headers)).json()
    assert steps(other) == [
        (s, 0, None) for s in ("interests", "accepted", "deals", "mandated", "agreed", "signed", "registered")
    ]
    # The registered deal opened last year leaves this year's cohort, whenever it got registered.
    await db.execute(update(Deal).where(Deal.id == deals[0].id).values(created_at=NOW - timedelta(days=400)))
    await db.commit()
    since = (today_in_china() - timedelta(days=30)).isoformat()
    body = (await client.get(f"/api/v1/market/funnel?from={since}", headers=w.outsider.headers)).json()
    assert body["from"] == since and body["to"] is None
    assert [s[1] for s in steps(body)] == [4, 2, 2, 2, 1, 0, 0]
    assert (await client.get("/api/v1/market/funnel")).status_code == 401
    response = await client.get(
        "/api/v1/market/funnel?from=2026-02-01&to=2026-01-01", headers=w.outsider.headers
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "to")
    response = await client.get("/api/v1/market/funnel?region=3x", headers=w.outsider.headers)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "region")


async def broker_world(client: httpx.AsyncClient, db: AsyncSession) -> DealWorld:
    """The world's broker brokers two registered deals and one signed; four interests handled:
    10 and 21 days before registration, one filed on a client's behalf with no deal yet, one on the
    signed deal. Another agency's manager brokers nothing."""
    w = await deal_world(client, db)
    first = await deal_at(db, w, DealStage.registered)
    second = await deal_at(db, w, DealStage.registered)
    signed = await deal_at(db, w, DealStage.signed)
    first.registered_technology_amount = Decimal("500000.00")
    second.registered_technology_amount = Decimal("300000.50")
    others = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(3)]
    accepted = InterestStatus.accepted
    db.add_all(
        [
            interest(
                w,
                status=accepted,
                deal_id=first.id,
                created_at=first.reached_registered_at - timedelta(days=10),
            ),
            interest(
                w,
                organization_id=others[0].id,
                status=accepted,
                deal_id=second.id,
                on_behalf_broker_id=w.broker.user_id,
                created_at=second.reached_registered_at - timedelta(days=21),
            ),
            interest(w, organization_id=others[1].id, on_behalf_broker_id=w.broker.user_id),
            interest(w, organization_id=others[2].id, status=accepted, deal_id=signed.id),
        ]
    )
    await db.commit()
    return w


EXPECTED_BROKER = {
    "interests_handled": 4,
    "interests_registered": 2,
    "conversion": "0.5",
    "median_days_to_registration": "15.5",
    "deals": 3,
    "registered_deals": 2,
    "registered_technology_amount": "800000.50",
}


def figures_of(row: dict) -> dict:
    return {k: row[k] for k in EXPECTED_BROKER} | {
        "stages": {k: v for k, v in row["deals_by_stage"].items() if v}
    }


async def test_the_brokers_figures(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await broker_world(client, db)
    response = await client.get("/api/v1/market/brokers?region=3201", headers=w.admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = EXPECTED_BROKER | {"stages": {"registered": 2, "signed": 1}}
    [agency] = body["agencies"]
    assert agency["organization_id"] == str(w.agency.id) and figures_of(agency) == expected
    [manager] = body["technology_managers"]
    assert (manager["user_id"], manager["organization_id"]) == (str(w.broker.user_id), str(w.agency.id))
    assert figures_of(manager) == expected
    # The seller is in Nanjing: Suzhou's report is empty.
    suzhou = (await client.get("/api/v1/market/brokers?region=3205", headers=w.admin.headers)).json()
    assert (suzhou["agencies"], suzhou["technology_managers"]) == ([], [])


async def test_the_brokers_are_ranked_and_paged(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await broker_world(client, db)
    rival_agency = await create_organization(db, kind=OrganizationKind.agency, region_code="320106")
    rival = await person(client, db, Role.tech_manager, rival_agency)
    # The signed deal changes hands: the rival brokers one deal and nothing registered.
    signed = await db.scalar(select(Deal).where(Deal.stage == DealStage.signed))
    assert signed is not None
    signed.broker_user_id, signed.broker_agency_id = rival.user_id, rival_agency.id
    await db.commit()
    body = (await client.get("/api/v1/market/brokers", headers=w.admin.headers)).json()
    assert [a["organization_id"] for a in body["agencies"]] == [str(w.agency.id), str(rival_agency.id)]
    assert [m["user_id"] for m in body["technology_managers"]] == [str(w.broker.user_id), str(rival.user_id)]
    assert (body["agencies_total"], body["technology_managers_total"], body["limit"], body["offset"]) == (
        2,
        2,
        20,
        0,
    )
    page = (await client.get("/api/v1/market/brokers?limit=1&offset=1", headers=w.admin.headers)).json()
    assert [a["organization_id"] for a in page["agencies"]] == [str(rival_agency.id)]
    assert [m["user_id"] for m in page["technology_managers"]] == [str(rival.user_id)]
    assert page["agencies"][0]["deals_by_stage"]["signed"] == 1
    beyond = (await client.get("/api/v1/market/brokers?offset=2", headers=w.admin.headers)).json()
    assert (beyond["agencies"], beyond["technology_managers"]) == ([], [])
    assert (beyond["agencies_total"], beyond["technology_managers_total"]) == (2, 2)
    response = await client.get("/api/v1/market/brokers?limit=0", headers=w.admin.headers)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "limit")


async def test_an_agency_sees_itself_and_its_managers_only(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await broker_world(client, db)
    colleague = await person(client, db, Role.member, w.agency)
    rival_agency = await create_organization(db, kind=OrganizationKind.agency)
    rival = await person(client, db, Role.tech_manager, rival_agency)
    for seer in (w.admin, w.broker, colleague):
        body = (await client.get("/api/v1/market/brokers", headers=seer.headers)).json()
        assert [a["organization_id"] for a in body["agencies"]] == [str(w.agency.id)]
        assert [m["user_id"] for m in body["technology_managers"]] == [str(w.broker.user_id)]
    for stranger in (rival, w.outsider, w.seller):
        body = (await client.get("/api/v1/market/brokers", headers=stranger.headers)).json()
        assert (body["agencies"], body["technology_managers"]) == ([], [])
    assert (await client.get("/api/v1/market/brokers")).status_code == 401


async def test_enter_stage_keeps_when_a_deal_first_reached_each_stage(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.agreed)
    first = deal.reached_agreed_at
    assert first is not None and deal.reached_mandated_at is not None and deal.reached_signed_at is None
    await service.enter_stage(db, deal, DealStage.on_hold, actor=SystemActor(), reason="等待")
    await service.enter_stage(db, deal, DealStage.agreed, actor=SystemActor())
    await db.commit()
    await db.refresh(deal)
    assert deal.reached_agreed_at == first


async def test_the_fast_figures_equal_the_naive_ones_on_a_random_set(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rng = random.Random(20)  # noqa: S311 — a reproducible data set, not a secret
    w = await deal_world(client, db)
    sellers = [
        w.seller_org,
        await create_organization(db, region_code="320583"),
        await create_organization(db, region_code="360102"),
    ]
    listings = [w.achievement] + [
        await published_achievement(db, rng.choice(sellers), title=f"成果{i}") for i in range(5)
    ]
    buyers = [await create_organization(db, kind=OrganizationKind.enterprise) for _ in range(8)]
    agency2 = await create_organization(db, kind=OrganizationKind.agency, region_code="360100")
    brokers = [
        (w.broker.user_id, w.agency.id),
        ((await person(client, db, Role.tech_manager, agency2)).user_id, agency2.id),
    ]
    deals = []
    for listing in listings:
        for buyer in rng.sample(buyers, 4):
            deal = await service.open_deal(
                db,
                actor=SystemActor(),
                title=listing.title,
                seller_organization_id=listing.owner_organization_id,
                buyer_organization_id=buyer.id,
                achievement_id=listing.id,
            )
            if rng.random() < 0.8:
                deal.broker_user_id, deal.broker_agency_id = rng.choice(brokers)
            for stage in PATH[1 : rng.randrange(1, len(PATH) + 1)]:
                if rng.random() < 0.15:
                    await service.enter_stage(db, deal, DealStage.on_hold, actor=SystemActor(), reason="暂停")
                await service.enter_stage(db, deal, stage, actor=SystemActor())
            if deal.stage is not DealStage.registered and rng.random() < 0.2:
                await service.enter_stage(db, deal, DealStage.lost, actor=SystemActor(), reason="终止")
            if deal.stage is DealStage.registered:
                deal.registered_technology_amount = Decimal(rng.randrange(1, 10**8)).scaleb(-2)
            # Over two years and more: whole years, months and days all count.
            deal.created_at = NOW - timedelta(days=rng.randrange(0, 800))
            deals.append(deal)
    await db.flush()
    for deal in deals:
        for listing in listings:
            if listing.id == deal.achievement_id and rng.random() < 0.7:
                db.add(
                    interest(
                        w,
                        achievement_id=listing.id,
                        owner_organization_id=listing.owner_organization_id,
                        organization_id=deal.buyer_organization_id,
                        status=InterestStatus.accepted,
                        deal_id=deal.id,
                        on_behalf_broker_id=rng.choice([None, None, brokers[0][0], brokers[1][0]]),
                        created_at=NOW - timedelta(days=rng.randrange(0, 830), hours=rng.randrange(24)),
                    )
                )
    for _ in range(20):
        listing = rng.choice(listings)
        db.add(
            interest(
                w,
                achievement_id=listing.id,
                owner_organization_id=listing.owner_organization_id,
                organization_id=rng.choice(buyers).id,
                status=rng.choice([InterestStatus.declined, InterestStatus.withdrawn]),
                on_behalf_broker_id=rng.choice([None, brokers[0][0], brokers[1][0]]),
                created_at=NOW - timedelta(days=rng.randrange(0, 830)),
            )
        )
    await db.commit()
    # After the interests were linked: deals change broker and go on to registration, which their
    # interests' copies must follow.
    for deal in rng.sample([d for d in deals if d.stage not in (DealStage.registered, DealStage.lost)], 6):
        deal.broker_user_id, deal.broker_agency_id = rng.choice([*brokers, (None, None)])
        for stage in PATH[PATH.index(deal.stage) + 1 :] if deal.stage in PATH else ():
            await service.enter_stage(db, deal, stage, actor=SystemActor())
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(Deal).where(Deal.stage == DealStage.registered))

    today = today_in_china()
    checked = 0
    for since, until in [
        (None, None),
        (today - timedelta(days=30), None),
        (today - timedelta(days=45), today - timedelta(days=10)),
        # Whole months and the partial ones at either end.
        (today - timedelta(days=90), today),
        # Whole years, the whole months outside them and the days outside those.
        (today - timedelta(days=700), today - timedelta(days=20)),
        (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        (None, today - timedelta(days=400)),
        (today - timedelta(days=500), None),
    ]:
        for region in (None, "32", "3205", "36"):
            for organization in (None, w.agency.id, agency2.id):
                scope = scope_of(since, until, region, organization)
                assert await queries.funnel(db, scope) == await queries.funnel(db, scope, naive=True)
                fast = await queries.brokers(db, scope, ALL)
                assert fast == await queries.brokers(db, scope, ALL, naive=True)
                checked += bool(fast.managers)
                # Each page of the rankings, and the totals beside an empty page.
                for offset in range(4):
                    page = PageParams(limit=1, offset=offset)
                    assert await queries.brokers(db, scope, page) == await queries.brokers(
                        db, scope, page, naive=True
                    )
    assert checked > 10


async def test_the_funnels_rollups_follow_every_change(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Whatever changes an interest, a deal or a seller's region (or deletes a row), the funnel from
    the month and day rollups stays equal to the count over the rows."""
    w = await deal_world(client, db)
    other = await create_organization(db, region_code="360102")
    today = today_in_china()
    periods = [(None, None), (today - timedelta(days=40), today), (today, today)]

    async def check() -> None:
        await db.flush()
        for since, until in periods:
            for region in (None, "32", "36"):
                scope = scope_of(since, until, region)
                assert await queries.funnel(db, scope) == await queries.funnel(db, scope, naive=True)
        for model in (MarketFunnelMonth, MarketFunnelDay):
            assert await db.scalar(select(func.coalesce(func.sum(model.interests), 0))) == await db.scalar(
                select(func.count()).select_from(Interest)
            )
            assert await db.scalar(select(func.coalesce(func.sum(model.deals), 0))) == await db.scalar(
                select(func.count()).select_from(Deal)
            )

    deal = await deal_at(db, w, DealStage.agreed)
    filed = interest(w, achievement_id=w.achievement.id, owner_organization_id=w.seller_org.id)
    db.add(filed)
    await check()
    filed.status = InterestStatus.accepted
    deal.created_at = NOW - timedelta(days=35)
    await check()
    await service.enter_stage(db, deal, DealStage.signed, actor=SystemActor())
    await check()
    assert (await queries.funnel(db, scope_of(today - timedelta(days=40), today, "32"))).stages[
        DealStage.signed
    ] == 1
    deal.seller_organization_id = other.id
    await check()
    w.seller_org.region_code = "360103"
    await check()
    assert (await queries.funnel(db, scope_of(None, None, "36"))).interests == 1
    await db.delete(filed)
    await check()
    assert (await queries.funnel(db, scope_of(None, None, None))).interests == 0


def test_a_period_is_whole_years_then_whole_months_then_days() -> None:
    rng = random.Random(7)  # noqa: S311 — reproducible periods, not a secret
    horizon = (date(2019, 1, 1), date(2031, 1, 1))
    for _ in range(500):
        first = date(2020, 1, 1) + timedelta(days=rng.randrange(3000))
        end = first + timedelta(days=rng.randrange(1, 1500))
        for since, until in [(first, end), (None, end), (first, None), (None, None)]:
            covered: list[date] = []
            for grain, lo, hi in queries.buckets(since, until):
                lo, hi = lo or horizon[0], hi or horizon[1]
                if grain is not Grain.day:
                    assert lo.day == hi.day == 1, (grain, lo, hi)
                if grain is Grain.year:
                    assert lo.month == hi.month == 1, (grain, lo, hi)
                covered += [lo + timedelta(days=i) for i in range((hi - lo).days)]
            lo, hi = since or horizon[0], until or horizon[1]
            # Every day of the period once, and no other.
            assert sorted(covered) == [lo + timedelta(days=i) for i in range((hi - lo).days)]
    assert queries.buckets(date(2025, 3, 15), date(2027, 2, 10)) == [
        (Grain.year, date(2026, 1, 1), date(2027, 1, 1)),
        (Grain.month, date(2025, 4, 1), date(2026, 1, 1)),
        (Grain.month, date(2027, 1, 1), date(2027, 2, 1)),
        (Grain.day, date(2025, 3, 15), date(2025, 4, 1)),
        (Grain.day, date(2027, 2, 1), date(2027, 2, 10)),
    ]


async def test_the_brokers_rollups_follow_every_change(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Whatever changes an interest, a deal, a seller's region or a technology manager's
    organization (or deletes a row), the brokers' figures from the rollups stay equal to those read
    from the rows and the stage history."""
    w = await deal_world(client, db)
    other = await create_organization(db, region_code="360102")
    other_agency = await create_organization(db, kind=OrganizationKind.agency, region_code="360100")
    today = today_in_china()
    periods = [
        (None, None),
        (today - timedelta(days=40), today),
        (today, today),
        (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]

    async def check() -> queries.BrokerCounts:
        await db.flush()
        for since, until in periods:
            for region in (None, "32", "3201", "320102", "36"):
                for organization in (None, w.agency.id, other_agency.id):
                    scope = scope_of(since, until, region, organization)
                    assert await queries.brokers(db, scope, ALL) == await queries.brokers(
                        db, scope, ALL, naive=True
                    )
        return await queries.brokers(db, scope_of(None, None, None), ALL)

    deal = await deal_at(db, w, DealStage.agreed)
    filed = interest(
        w,
        on_behalf_broker_id=w.broker.user_id,
        created_at=NOW - timedelta(days=400),
        status=InterestStatus.accepted,
    )
    db.add(filed)
    everything = await check()
    assert everything.agencies[w.agency.id][0] == queries.InterestFigures(1, 0, None)
    filed.deal_id = deal.id
    await check()
    await service.enter_stage(db, deal, DealStage.signed, actor=SystemActor())
    deal.created_at = NOW - timedelta(days=35)
    await check()
    for stage in (DealStage.registration_submitted, DealStage.registered):
        await service.enter_stage(db, deal, stage, actor=SystemActor())
    deal.registered_technology_amount = Decimal("123456.78")
    everything = await check()
    interests, deals = everything.managers[w.broker.user_id]
    assert interests is not None and interests.registered == 1 and interests.median_days is not None
    assert deals is not None and deals.registered_technology_amount == Decimal("123456.78")
    # The seller moves province; the deal changes hands to another agency's manager.
    w.seller_org.region_code = "360103"
    await check()
    rival = await person(client, db, Role.tech_manager, other_agency)
    deal.broker_user_id, deal.broker_agency_id = rival.user_id, other_agency.id
    deal.seller_organization_id = other.id
    everything = await check()
    assert set(everything.agencies) == {w.agency.id, other_agency.id}
    # The technology manager who filed on the client's behalf joins the other agency.
    broker = await db.get(User, w.broker.user_id)
    assert broker is not None
    broker.organization_id = other_agency.id
    everything = await check()
    assert set(everything.agencies) == {other_agency.id}
    # The mandate ends; the interest is deleted.
    deal.broker_user_id = deal.broker_agency_id = None
    await db.delete(filed)
    everything = await check()
    assert (everything.agencies, everything.managers) == ({}, {})
    assert not await db.scalar(
        select(func.count())
        .select_from(MarketBrokerFigures)
        .where(MarketBrokerFigures.interests_handled != 0)
    )
