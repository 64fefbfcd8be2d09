"""The relays for every outbox topic this domain and the search index handle — the index's, and
the webhooks' own — for the API process (started in the lifespan) and `techex worker`."""

import asyncio
import contextlib
import logging

from app.core.config import Settings
from app.core.db import Database
from app.matching import subscriptions, webhooks
from search import indexer
from search.engine import Engine
from search.normalize import warm_up
from search.relay import Relay, plain_dsn

log = logging.getLogger("techex.search")


def build_relay(database: Database, engine: Engine, settings: Settings) -> Relay:
    """The index's relay (and subscriptions', which ask the index); webhooks have their own."""
    assert settings.database_url is not None
    return Relay(
        database,
        {
            indexer.TOPIC: indexer.handler(engine),
            indexer.PUBLISHED_TOPIC: subscriptions.published_handler(engine),
        },
        listen_dsn=plain_dsn(settings.database_url),
        max_backoff=10.0,  # short: after a Meilisearch restart the index catches up within seconds
    )


async def setup_in_background(engine: Engine) -> None:
    """Apply index settings at start-up; if Meilisearch is down, keep trying without blocking the API."""
    await asyncio.to_thread(warm_up)
    delay = 0.5
    while True:
        try:
            await engine.setup()
            return
        except Exception as exc:
            log.warning("search index setup failed; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


class Background:
    """What the API process runs beside requests: settings at start-up and the relays."""

    def __init__(self, database: Database, engine: Engine, settings: Settings) -> None:
        self.http = webhooks.client(settings)
        self.relays = [build_relay(database, engine, settings), webhooks.relay(database, settings, self.http)]
        self.engine = engine
        self._setup: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._setup = asyncio.create_task(setup_in_background(self.engine), name="search-setup")
        for relay in self.relays:
            relay.start()

    async def drain(self) -> None:
        """Process what is due, index first: its rows produce the notifications to deliver."""
        for relay in self.relays:
            await relay.drain()

    async def stop(self) -> None:
        for relay in self.relays:
            await relay.stop()
        if self._setup is not None:
            self._setup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._setup
        await self.http.aclose()
