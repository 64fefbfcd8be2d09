"""`techex seed-demo` shows a running auction with two qualified bidders and a bid, once."""

import httpx
from fastapi import FastAPI

from app.core.config import Settings
from app.demo import SEEDERS
from app.listings.cli import seed
from app.trading.auctions.demo import seed_auction


async def test_seed_demo_adds_one_running_auction_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    assert seed_auction in SEEDERS
    quick = settings.model_copy(update={"demo_contracts": 150})
    first = await seed(app.state.database, quick)
    assert next(line for line in first if line.startswith("auction:")).startswith(
        "auction: 1 running auction added"
    )
    running = (await client.get("/api/v1/auctions", params={"status": "running"})).json()
    assert running["total"] == 1
    auction = running["items"][0]
    assert len(auction["bidders"]) == 2 and auction["bid_count"] == 1 and auction["reserve_price"] is None
    second = await seed(app.state.database, quick)
    assert next(line for line in second if line.startswith("auction:")).startswith("auction: 0 added")
    assert (await client.get("/api/v1/auctions")).json()["total"] == 1
