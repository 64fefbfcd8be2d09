"""Demo data for `techex seed-demo` (and `make run` with DEMO_DATA=1).

Each seeder takes the one session the command runs in, adds what is missing (running the
command twice adds nothing) and returns a one-line summary. Domains append their own."""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.demo import seed_listings
from app.stats.demo import seed_targets

Seeder = Callable[[AsyncSession], Awaitable[str]]

SEEDERS: list[Seeder] = [seed_listings, seed_targets]
