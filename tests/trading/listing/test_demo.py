"""`techex seed-demo` shows a running listing period, once."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.deals.demo import seed_deals
from app.demo import SEEDERS
from app.listings.cli import seed
from app.trading.listing.demo import seed_listing
from app.trading.models import ListingIntention
from tests.trading.listing.world import URL


async def test_seed_demo_adds_one_running_listing_period_once(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # After the deals: its seller and broker are theirs.
    assert SEEDERS.index(seed_listing) > SEEDERS.index(seed_deals)
    quick = settings.model_copy(update={"demo_contracts": 150})
    first = await seed(app.state.database, quick)
    assert next(line for line in first if line.startswith("listing:")).startswith(
        "listing: 1 running period added"
    )
    running = (await client.get(URL)).json()
    assert running["total"] == 1 and running["items"][0]["status"] == "running"
    assert (await db.execute(select(func.count()).select_from(ListingIntention))).scalar_one() == 2
    second = await seed(app.state.database, quick)
    assert next(line for line in second if line.startswith("listing:")).startswith("listing: 0 added")
    assert (await client.get(URL)).json()["total"] == 1
