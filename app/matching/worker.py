"""The relays for every outbox topic this domain and the search index handle, for the API process
(started in the lifespan) and `techex worker`."""

import asyncio
import contextlib
import logging

import httpx

from app.core.config import Settings
from app.core.db import Database
from app.matching import subscriptions, webhooks
from search import indexer
from search.engine import Engine
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
    ]
    index = Relay(
        database,
        {indexer.TOPIC: indexer.handler(engine)},
        listen_dsn=plain_dsn(settings.database_url),
        max_backoff=10.0,  # short: after a Meilisearch restart the index catches up within seconds
        also_wake=others,
    )
    return [index, *others]


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
        self.relays = build_relays(database, engine, settings, self.http)
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
