"""`/api/v1/auctions`: online bidding (网络竞价). Routers parse, authorise and present; `service`,
`bidding` and `closing` hold the rules."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.accounts.auth import CurrentUser, OptionalUser
from app.contracts.http import ExactJSONRoute
from app.core import clock
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep
from app.trading.auctions import bidding, repository, service, views
from app.trading.auctions.schemas import (
    STATUS,
    AuctionCreate,
    AuctionRead,
    BidderCreate,
    BidderRead,
    BidEntry,
    BidIn,
    BidRead,
    Cancellation,
)
from app.trading.vocabulary import AuctionStatus

router = APIRouter(prefix="/auctions", tags=["auctions · 网络竞价"], route_class=ExactJSONRoute)

SEEN = """
**Who sees what.** Anyone, signed in or not, sees an auction and its bids; bidders appear by
their code (竞买号). The reserve price is shown only to the seller's members, the deal's broker and
administrators, and whether it was met only after the close. After a sale the winner's
organization is named to the seller side and to the winner."""

BidKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="重试安全：同一用户同一键的重复出价返回第一次的结果 / a retry answers the first bid",
    ),
]


async def _auction(session: SessionDep, auction_id: uuid.UUID) -> Any:
    auction = await repository.get(session, auction_id)
    if auction is None:
        raise bidding.AUCTION_NOT_FOUND
    return auction


@router.post(
    "",
    response_model=AuctionRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Open an auction · 发起网络竞价",
    description="The seller's members, the deal's broker or an administrator open an auction for a deal "
    "at `negotiating` whose buyer is not known yet (409 `buyer_known`, `deal_not_negotiating`, "
    "`auction_live`). The deposit is within the configured share of the opening price (422 "
    "`deposit_out_of_range` naming `deposit_amount`); the reserve, if any, not below the opening "
    "price; the start not before now and the end after it, by the server's clock. The deal takes the "
    "auction route.",
)
async def create(
    session: SessionDep, user: CurrentUser, body: AuctionCreate, request: Request, response: Response
) -> Any:
    auction = await service.create(session, user=user, settings=request.app.state.settings, data=body)
    response.headers["Location"] = f"/api/v1/auctions/{auction.id}"
    return await views.present(session, user, auction)


@router.get(
    "",
    response_model=Page[AuctionRead],
    responses=problem_responses(422),
    summary="List auctions · 网络竞价列表",
    description="Scheduled, running and closed auctions (not the cancelled ones), latest end first; "
    "`status` narrows the list." + SEEN,
)
async def list_(
    session: SessionDep,
    user: OptionalUser,
    page: PageDep,
    status_: Annotated[AuctionStatus | None, Query(alias="status", description=STATUS)] = None,
) -> Any:
    auctions, total = await repository.page_listed(session, page, status_, clock.now())
    return Page.of([await views.present(session, user, a) for a in auctions], total, page)


@router.get(
    "/{auction_id}",
    response_model=AuctionRead,
    responses=problem_responses(404),
    summary="Read an auction · 竞价详情",
    description="The auction, its best bid, the lowest valid next bid and its bidders." + SEEN,
)
async def read(session: SessionDep, user: OptionalUser, auction_id: uuid.UUID) -> Any:
    return await views.present(session, user, await _auction(session, auction_id))


@router.get(
    "/{auction_id}/bids",
    response_model=Page[BidEntry],
    responses=problem_responses(404),
    summary="Bid history · 出价记录",
    description="Every accepted bid, in order (`sequence` 1, 2, 3 … with no gap), by bidder code.",
)
async def bids(session: SessionDep, auction_id: uuid.UUID, page: PageDep) -> Any:
    await _auction(session, auction_id)
    rows, total = await repository.page_bids(session, auction_id, page)
    items = [
        {
            "sequence": bid.sequence,
            "amount": bid.amount,
            "bidder_code": code,
            "placed_at": bid.placed_at,
            "ends_at": bid.ends_at_after,
        }
        for bid, code in rows
    ]
    return Page.of(items, total, page)


@router.post(
    "/{auction_id}/bids",
    response_model=BidRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Bid · 出价",
    description="A qualified bidder's member bids (`amount` as a decimal string). Valid when at least "
    "the best bid plus one increment (the opening price for the first bid) and the opening price plus "
    "a whole number of increments: otherwise 422 `bid_too_low` / `bid_off_increment` with "
    "`min_next_bid`. 409 `auction_not_running` before the start or after the end (the server's "
    "clock); 403 `seller_cannot_bid` for the seller's members, `not_a_bidder` for an organization "
    "not qualified or whose deposit is not received. A bid in the last minutes "
    "(`auction_extension_minutes`) moves the end to that many minutes after it (`extended`). Bids "
    "on one auction are applied one at a time. With `Idempotency-Key`, a retry by the same user "
    "answers the first bid again (201, the same body) and never bids twice; the same key with another "
    "amount is 409 `idempotency_key_reused`.",
)
async def bid(
    session: SessionDep,
    user: CurrentUser,
    auction_id: uuid.UUID,
    body: BidIn,
    request: Request,
    idempotency_key: BidKey = None,
) -> Any:
    placed = await bidding.place_bid(
        session,
        user=user,
        settings=request.app.state.settings,
        auction_id=auction_id,
        amount=body.amount,
        idempotency_key=idempotency_key,
    )
    return placed.answer()


@router.post(
    "/{auction_id}/bidders",
    response_model=BidderRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Qualify a bidder · 竞买资格确认",
    description="The seller's members, the deal's broker or an administrator qualify an organization "
    "(not the seller: 422 naming `organization_id`); it gets a code and its members are told. 409 "
    "`already_qualified`, `auction_closed`.",
)
async def qualify(session: SessionDep, user: CurrentUser, auction_id: uuid.UUID, body: BidderCreate) -> Any:
    bidder = await service.qualify(
        session, user=user, auction_id=auction_id, organization_id=body.organization_id
    )
    return views.bidder_view(bidder, await repository.organization_name(session, bidder.organization_id))


@router.post(
    "/{auction_id}/bidders/{bidder_id}/deposit",
    response_model=BidderRead,
    responses=problem_responses(401, 403, 404, 409),
    summary="Confirm a deposit · 确认保证金到账",
    description="Administrators record that a bidder's deposit was received (a record, not a payment); "
    "from then on it may bid. 409 `deposit_not_awaiting` when none is awaited.",
)
async def confirm_deposit(
    session: SessionDep, user: CurrentUser, auction_id: uuid.UUID, bidder_id: uuid.UUID
) -> Any:
    bidder = await service.confirm_deposit(session, user=user, auction_id=auction_id, bidder_id=bidder_id)
    return views.bidder_view(bidder, await repository.organization_name(session, bidder.organization_id))


@router.post(
    "/{auction_id}/cancellation",
    response_model=AuctionRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Cancel an auction · 取消竞价",
    description="The seller's members or an administrator cancel an auction before any bid (409 "
    "`auction_has_bids`), with a reason; received deposits are released and the bidders told.",
)
async def cancel(session: SessionDep, user: CurrentUser, auction_id: uuid.UUID, body: Cancellation) -> Any:
    auction = await service.cancel(session, user=user, auction_id=auction_id, reason=body.reason)
    return await views.present(session, user, auction)
