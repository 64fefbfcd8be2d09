"""`/api/v1/market`: the figures that tell the province which listings and brokers work
(docs/deals.md). Thin: parse, call the service, return its schema."""

import uuid
from typing import Literal

from fastapi import APIRouter, Response

from app.accounts.auth import CurrentUser
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import PageDep
from app.stats import market
from app.stats.router import From, Region, To

market_router = APIRouter(prefix="/market", tags=["statistics"])

PERIOD = """
**Periods are cohorts.** `from`/`to` (Asia/Shanghai days, inclusive) select the interests filed and
the deals opened in the period; each is then counted by how far it has got today (accepted, entered
a stage, registered). Without them, all time. **Regions**: a deal's is its seller's, an interest's
its listing owner's (administrative-code prefix: `32` Jiangsu, `3201` Nanjing)."""


@market_router.get(
    "/funnel",
    response_model=market.Funnel,
    response_model_by_alias=True,
    responses=problem_responses(401, 422),
    summary="Market funnel of a region and period · 交易漏斗",
    description="interests → accepted → deals → mandated → agreed → signed → registered, each with "
    "its count and its rate from the step before (exact ratios; a deal may start as a technology "
    "manager's lead with no interest, so `deals` can exceed `accepted`). Any signed-in user.\n" + PERIOD,
)
async def funnel(
    session: SessionDep, _: CurrentUser, since: From = None, until: To = None, region: Region = None
) -> market.Funnel:
    return await market.funnel(session, since=since, until=until, region=region)


@market_router.get(
    "/brokers",
    response_model=market.BrokerStatistics,
    response_model_by_alias=True,
    responses=problem_responses(401, 422),
    summary="Agencies' and technology managers' figures · 技术经理人与服务机构统计",
    description="Per agency and per technology manager: interests handled (filed on a client's "
    "behalf, or whose deal they broker), how many of those reached registration, the conversion "
    "and the median days between interest and registration; the deals they broker by current "
    "stage, the registered ones and their certified technology amount. Administrators (government "
    "bodies' accounts) see every broker; anyone else their own organization and its technology "
    "managers (an empty report if it brokers nothing). Each list is a ranking — registered "
    "technology amount, then deals, descending — and `limit`/`offset` select the same page of "
    "both, with each ranking's total.\n" + PERIOD,
)
async def brokers(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    since: From = None,
    until: To = None,
    region: Region = None,
) -> Response:
    report = await market.broker_statistics(
        session, user=user, since=since, until=until, region=region, page=page
    )
    # Hundreds of brokers: serialised once by pydantic's core, not dumped, revalidated and
    # re-encoded by FastAPI's response_model path (which still documents the schema).
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@market_router.get(
    "/listings/{kind}/{listing_id}",
    response_model=market.ListingStatistics,
    response_model_by_alias=True,
    responses=problem_responses(401, 403, 404, 422),
    summary="One listing's market figures · 成果（需求）交易统计",
    description="For the owner's members and administrators (`not_listing_owner` 403 for others who "
    "can see the listing, `listing_not_found` 404 for those who cannot): detail views (each signed-in "
    "organization other than the owner counts once a day; `from`/`to` select the days), interests by "
    "status and declines by reason, deals by current stage, and the registered deals with their "
    "certified contract and technology amounts (all time).",
)
async def listing(
    session: SessionDep,
    user: CurrentUser,
    kind: Literal["achievement", "demand"],
    listing_id: uuid.UUID,
    since: From = None,
    until: To = None,
) -> market.ListingStatistics:
    return await market.listing_statistics(
        session, user=user, kind=kind, listing_id=listing_id, since=since, until=until
    )
