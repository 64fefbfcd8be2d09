"""The relays for every outbox topic this domain and the search index handle, for the API process
(started in the lifespan) and `techex worker`."""

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx

from app.core.config import Settings
from app.core.db import Database
from app.deals.handoff import outcome
from app.interests import service as interests
from app.matching import subscriptions, webhooks
from app.outbox import service as outbox
from app.trading.auctions import closing as auctions
from app.trading.listing import closing as listing_periods
from app.trading.publicity import completion as publicities
from search import indexer
from search.engine import Engine
from search.keys import Engines
from search.normalize import warm_up
from search.relay import Relay, plain_dsn

log = logging.getLogger("techex.search")


def build_relays(
    database: Database, engine: Engine, settings: Settings, http: httpx.AsyncClient
) -> list[Relay]:
    """One relay per kind of work, so that none waits on another: the index (publish → searchable
    is the figure users feel), subscriptions (each new listing checked against every saved search
    and followed demand — the more subscriptions, the longer) and webhooks (as slow as the slowest
    receiver). The index's LISTEN wakes all three."""
    assert settings.database_url is not None
    others = [
        Relay(database, {indexer.PUBLISHED_TOPIC: subscriptions.published_handler(engine)}, max_backoff=10.0),
        webhooks.relay(database, settings, http),
        Relay(database, {outcome.TOPIC: outcome.handler}, max_backoff=30.0),
    ]
    index = Relay(
        database,
        {indexer.TOPIC: indexer.handler(engine)},
        listen_dsn=plain_dsn(settings.database_url),
        max_backoff=10.0,  # short: after a Meilisearch restart the index catches up within seconds
        also_wake=others,
    )
    return [index, *others]


async def setup_in_background(engines: Engines) -> None:
    """Set up the search keys and apply index settings at start-up; if Meilisearch is down, keep
    trying without blocking the API."""
    await asyncio.to_thread(warm_up)
    delay = 0.5
    while True:
        try:
            await engines.provision()
            await engines.indexing.setup()
            return
        except Exception as exc:
            log.warning("search index setup failed; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


async def prune_periodically(database: Database, retention: timedelta) -> None:
    while True:
        try:
            deleted = await outbox.prune(database, older_than=retention)
            if deleted:
                log.info("outbox pruned", extra={"deleted": deleted})
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("outbox pruning failed", extra={"error": repr(exc)})
        await asyncio.sleep(PRUNE_EVERY_SECONDS)


PRUNE_EVERY_SECONDS = 3600


async def remind_periodically(database: Database, days: int) -> None:
    """Tell the interested sides of interests left unanswered `days` days (app/interests)."""
    while True:
        try:
            told = await interests.remind_all_unanswered(database, days=days)
            if told:
                log.info("unanswered interests reported", extra={"told": told})
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("reporting unanswered interests failed", extra={"error": repr(exc)})
        await asyncio.sleep(REMIND_EVERY_SECONDS)


# An interest's reminder is a matter of days: checking every ten minutes is punctual enough.
REMIND_EVERY_SECONDS = 600


async def end_listing_periods(database: Database, settings: Settings) -> None:
    """Close the listing periods that ran out (app/trading/listing/closing.py); the idle tick is
    one indexed query. A read of a due announcement closes it too, so a minute late is harmless."""
    while True:
        try:
            ended = await listing_periods.conclude_due(database, settings)
            if ended:
                log.info("listing periods ended", extra={"ended": ended})
        except Exception:  # the database is away, or a bug: logged, the next round tries again
            log.exception("ending listing periods failed")
        await asyncio.sleep(LISTING_PERIODS_EVERY_SECONDS)


# Periods end at midnight, China time; a minute's delay is well within "on time".
LISTING_PERIODS_EVERY_SECONDS = 60


async def complete_publicities_periodically(database: Database) -> None:
    """Complete the pricing publicities whose period ran out and tell the deals' parties; idle, one
    indexed query. Restart-safe: what is due is read from the table each round."""
    while True:
        try:
            completed = await publicities.complete_all_due(database)
            if completed:
                log.info("pricing publicities completed", extra={"completed": completed})
        except Exception as exc:  # the database is away: the next round tries again
            log.warning("completing pricing publicities failed", extra={"error": repr(exc)})
        await asyncio.sleep(PUBLICITY_EVERY_SECONDS)


# A period ends at midnight: the parties hear of it within a minute.
PUBLICITY_EVERY_SECONDS = 60


class Background:
    """What the API process runs beside requests: search keys and settings at start-up, the relays
    (with the indexing key), pruning what they have long finished, and reporting interests left
    unanswered, completing the pricing publicities whose period ran out, ending listing periods,
    and the auctions' clock (closes on time, deposits forfeited)."""

    def __init__(self, database: Database, engines: Engines, settings: Settings) -> None:
        self.http = webhooks.client(settings)
        self.relays = build_relays(database, engines.indexing, settings, self.http)
        self.engines = engines
        self.database = database
        self.settings = settings
        self.retention = timedelta(days=settings.outbox_retention_days)
        self.interest_answer_days = settings.interest_answer_days
        self._setup: asyncio.Task[None] | None = None
        self._prune: asyncio.Task[None] | None = None
        self._remind: asyncio.Task[None] | None = None
        self._auction_clock: asyncio.Task[None] | None = None
        self._forfeit: asyncio.Task[None] | None = None
        self._listing: asyncio.Task[None] | None = None
        self._publicities: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._prune = asyncio.create_task(
            prune_periodically(self.database, self.retention), name="outbox-prune"
        )
        self._setup = asyncio.create_task(setup_in_background(self.engines), name="search-setup")
        self._remind = asyncio.create_task(
            remind_periodically(self.database, self.interest_answer_days), name="interest-reminders"
        )
        self._publicities = asyncio.create_task(
            complete_publicities_periodically(self.database), name="pricing-publicities"
        )
        self._listing = asyncio.create_task(
            end_listing_periods(self.database, self.settings), name="listing-periods"
        )
        self._auction_clock = asyncio.create_task(
            auctions.run_clock(self.database, self.settings), name="auction-clock"
        )
        self._forfeit = asyncio.create_task(
            auctions.forfeit_periodically(self.database), name="auction-forfeit"
        )
        for relay in self.relays:
            relay.start()

    async def drain(self) -> None:
        """Process what is due, index first: its rows produce the notifications to deliver; the
        reminders of unanswered interests, the listing periods' ends (which may open an auction),
        the auctions' closes and forfeitures before the relays, which deliver their webhooks."""
        await interests.remind_all_unanswered(self.database, days=self.interest_answer_days)
        await publicities.complete_all_due(self.database)
        await listing_periods.conclude_due(self.database, self.settings)
        await auctions.close_due(self.database, self.settings)
        await auctions.forfeit_due(self.database)
        for relay in self.relays:
            await relay.drain()

    async def stop(self) -> None:
        for relay in self.relays:
            await relay.stop()
        for task in (
            self._setup,
            self._prune,
            self._remind,
            self._publicities,
            self._listing,
            self._auction_clock,
            self._forfeit,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.http.aclose()
