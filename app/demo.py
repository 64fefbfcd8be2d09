"""Demo data for `techex seed-demo` (and `make run` with DEMO_DATA=1).

Each seeder takes the one session the command runs in and the settings, adds what is missing
(running the command twice adds nothing) and returns a one-line summary. Domains append their own."""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.demo import seed_contracts
from app.core.config import Settings
from app.deals.demo import seed_deals
from app.listings.demo import seed_listings
from app.stats.demo import seed_targets
from app.trading.auctions.demo import seed_auction
from app.trading.certificates.demo import seed_certificates
from app.trading.listing.demo import seed_listing
from app.trading.publicity.demo import seed_publicity

Seeder = Callable[[AsyncSession, Settings], Awaitable[str]]

# Listings first: the contracts' selling universities and companies are its organisations; deals
# next, between those organisations, registered at the contracts' offices; the trading routes
# after them, brokered by the deals' technology managers; the transaction certificates last, of
# the deals (and the trading routes' results) before them.
SEEDERS: list[Seeder] = [
    seed_listings,
    seed_contracts,
    seed_targets,
    seed_deals,
    seed_publicity,
    seed_listing,
    seed_auction,
    seed_certificates,
]
