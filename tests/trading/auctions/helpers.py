"""An auction world for the bidding tests: the deals' world (a university seller, its broker, an
administrator, an outsider), a deal at `negotiating` whose buyer the auction is to find, and two
enterprises with a member each to bid."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.core import clock
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from tests.contracts.helpers import Person, person
from tests.deals.factory import DealWorld, deal_at, deal_world
from tests.fixtures.accounts import create_organization


@dataclass
class AuctionWorld:
    w: DealWorld
    deal: Deal
    alpha: Person  # a member of the first bidding enterprise
    beta: Person  # a member of the second


async def auction_world(client: httpx.AsyncClient, db: AsyncSession) -> AuctionWorld:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    deal.buyer_organization_id = None  # the auction finds the buyer
    await db.commit()
    bidders = []
    for region in ("320583", "320205"):
        organization = await create_organization(db, kind=OrganizationKind.enterprise, region_code=region)
        bidders.append(await person(client, db, Role.member, organization))
    return AuctionWorld(w, deal, *bidders)


def terms(deal: Deal, *, start_in: timedelta = timedelta(minutes=1), **fields: Any) -> dict[str, Any]:
    """An auction's terms starting shortly after now and lasting six minutes (inside a sign-in's
    lifetime, so the same tokens bid across the time-travel)."""
    starts_at = fields.pop("starts_at", clock.now() + start_in)
    body = {
        "deal_id": str(deal.id),
        "title": "锂电池隔膜专利权转让",
        "transfer_mode": "transfer",
        "opening_price": "500000.00",
        "increment": "10000.00",
        "deposit_amount": "50000.00",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=6)).isoformat(),
    }
    return {**body, **fields}


async def open_with_bidders(
    client: httpx.AsyncClient, a: AuctionWorld, **fields: Any
) -> tuple[dict[str, Any], datetime]:
    """An auction opened by the broker with `alpha` and `beta` qualified and their deposits
    received; the answer and its start."""
    response = await client.post("/api/v1/auctions", json=terms(a.deal, **fields), headers=a.w.broker.headers)
    assert response.status_code == 201, response.text
    auction = response.json()
    for bidder in (a.alpha, a.beta):
        qualified = await client.post(
            f"/api/v1/auctions/{auction['id']}/bidders",
            json={"organization_id": str(bidder.organization_id)},
            headers=a.w.seller.headers,
        )
        assert qualified.status_code == 201, qualified.text
        if Decimal(auction["deposit_amount"]) > 0:
            received = await client.post(
                f"/api/v1/auctions/{auction['id']}/bidders/{qualified.json()['id']}/deposit",
                headers=a.w.admin.headers,
            )
            assert received.status_code == 200, received.text
    return auction, datetime.fromisoformat(auction["starts_at"])


async def bid(
    client: httpx.AsyncClient, who: Person, auction_id: str, amount: str, key: str | None = None
) -> httpx.Response:
    headers = {**who.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"/api/v1/auctions/{auction_id}/bids", json={"amount": amount}, headers=headers)
