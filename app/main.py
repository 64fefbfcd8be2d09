"""The FastAPI application: wiring only; every rule lives in a domain's service."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app.accounts.router import auth_router, organizations_router, users_router
from app.confidential.router import routers as confidential_routers
from app.confidential.router import upload_limits
from app.contracts.router import routers as contract_routers
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.errors import install_error_handlers, problem_responses
from app.core.logging import configure_logging
from app.core.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.deals.handoff.router import router as handoff_router
from app.deals.router import router as deals_router
from app.interests.router import router as interests_router
from app.listings.files import BODY_LIMIT_OVERRIDES
from app.listings.router import routers as listing_routers
from app.matching.router import router as matching_router
from app.matching.worker import Background
from app.pages.router import STATIC_PATH
from app.pages.router import router as pages_router
from app.pages.router import static as pages_static
from app.rewards.router import router as rewards_router
from app.stats.market_router import market_router
from app.stats.router import routers as stats_routers
from app.system.router import router as system_router
from app.trading.auctions.live import AuctionEvents
from app.trading.auctions.live_router import router as auction_events_router
from app.trading.auctions.router import router as auctions_router
from app.trading.certificates.router import router as certificates_router
from app.trading.listing.router import router as listing_announcements_router
from app.trading.publicity.router import deals_router as publicity_deals_router
from app.trading.publicity.router import router as publicity_router
from app.trading.publicity.router import upload_limits as publicity_upload_limits
from search.engine import SearchUnavailable
from search.keys import Engines
from search.relay import plain_dsn

log = logging.getLogger("techex.search")

API_DESCRIPTION = """
Techex — 技术产权交易市场 backend.

Errors are `application/problem+json` (RFC 9457) with a stable `code`; messages follow
`Accept-Language` (中文 by default, `en` on request). Lists take `limit` and `offset` and answer
`{items, total, limit, offset}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.secret_key is None:
        raise RuntimeError("TECHEX_SECRET_KEY is not set")
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set")
        app.state.database = Database.from_url(
            settings.database_url, pool_size=settings.db_pool_size, echo=settings.db_echo
        )
        # The request path searches with a search-only key, the relays index with their own; the
        # master key only creates them (search/keys.py): now if Meilisearch answers, else the
        # background set-up keeps trying and searches answer 503 meanwhile.
        app.state.engines = Engines(settings)
        app.state.search = app.state.engines.search
        try:
            await app.state.engines.provision()
        except SearchUnavailable as exc:
            log.warning("search keys not set up yet; retrying in the background", extra={"error": repr(exc)})
        # Index settings and the outbox relay (search/relay.py) run in this process too.
        app.state.background = Background(app.state.database, app.state.engines, settings)
        app.state.background.start()
        # One LISTEN connection for every live auction stream this process serves.
        app.state.auction_events.start(plain_dsn(settings.database_url))
        # What start-up built lives as long as the process: out of the collector's sight, a full
        # collection no longer walks ≈200,000 objects, a pause of tens of ms on whichever
        # requests are in flight (docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await app.state.auction_events.stop()
            await app.state.background.stop()
            await app.state.engines.aclose()
            await app.state.database.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from the service itself (the package ships them),
    # not from a CDN: they work on a network without internet.
    app = FastAPIOffline(
        title="Techex",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Built here, not in the lifespan: `techex serve` ends its streams when shutdown begins.
    app.state.auction_events = AuctionEvents(
        queue_size=settings.auction_events_queue_size, check_seconds=settings.auction_events_heartbeat_seconds
    )
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag", "Retry-After"],
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={**BODY_LIMIT_OVERRIDES, **upload_limits(settings), **publicity_upload_limits(settings)},
    )
    app.add_middleware(RequestContextMiddleware)

    # FastAPI matches routes in order, so the busiest come first: listings, then the rest;
    # the probes, called every few seconds, last.
    for router in (
        *listing_routers,
        matching_router,
        interests_router,
        auth_router,
        users_router,
        organizations_router,
        *contract_routers,
        deals_router,
        handoff_router,
        *stats_routers,
        *confidential_routers,
        rewards_router,
        market_router,
        auctions_router,
        auction_events_router,
        listing_announcements_router,
        publicity_deals_router,
        publicity_router,
        certificates_router,
    ):
        # Included directly, not through an /api/v1 router: every level of nesting is matched
        # again on each request (docs/benchmarks.md). Every API route may answer these, whatever
        # its own `responses=` lists: malformed JSON, an oversized body, invalid parameters.
        app.include_router(router, prefix="/api/v1", responses=problem_responses(400, 413, 422))
    # The pages for people (verification, publicity, dashboard, browsing), after the API.
    app.include_router(pages_router)
    app.mount(STATIC_PATH, pages_static, name="pages-static")
    app.include_router(system_router)
    return app
