"""The pricing routes' guards on the deal's stages (docs/trading.md).

- `signed`: a university or research institute sells only at a price set by one of the routes of
  art. 18 of the 促进科技成果转化法 — a completed agreed-price publicity, a listing agreed with its
  one qualified buyer, or an auction sold — and at the very price that route made public.
- `agreed`: a listing's or an auction's result is entered by the system only; a person cannot
  agree such a deal at a price of their own.

Imported at the end of app/deals/service.py so they register wherever deals move; they read the
trading tables and import nothing of app.deals.service."""

from decimal import Decimal

from sqlalchemy import select

from app.accounts.models import Organization, OrganizationKind
from app.core.errors import Conflict
from app.deals.stages import MoveContext, Mover, guard
from app.deals.vocabulary import DealStage
from app.trading.models import Auction, ListingAnnouncement, ListingIntention
from app.trading.publicity import repository as publicities
from app.trading.publicity.completion import complete_due_of_deal
from app.trading.vocabulary import (
    AnnouncementStatus,
    AuctionStatus,
    IntentionStatus,
    PricingRoute,
    PublicityStatus,
)

# The sellers art. 18 binds to price in public.
PUBLIC_SELLERS = frozenset({OrganizationKind.university, OrganizationKind.research_institute})
SYSTEM_ROUTES = frozenset({PricingRoute.listing, PricingRoute.auction})


def _refused(ctx: MoveContext, code: str, en: str, zh: str, **extra: object) -> Conflict:
    return Conflict(
        code=code,
        message_en=en,
        message_zh=zh,
        extra={"current_status": ctx.deal.stage.value, **extra},
    )


@guard(DealStage.signed)
async def priced_by_a_route(ctx: MoveContext) -> None:
    deal = ctx.deal
    # Signing is agreed → signed; a refused registration's return to `signed` signs nothing anew.
    if ctx.move.source is not DealStage.agreed or deal.seller_organization_id is None:
        return  # (no seller: the deals' own guard asks for the parties)
    seller = await ctx.session.get(Organization, deal.seller_organization_id)
    if seller is None or seller.kind not in PUBLIC_SELLERS:
        return
    price = deal.agreed_price
    if deal.pricing_route is PricingRoute.agreed_publicity:
        await complete_due_of_deal(ctx.session, deal.id)
        # The latest publicity speaks: an earlier one that completed does not outlive a later
        # objection upheld.
        latest = next(iter(await publicities.of_deal(ctx.session, deal.id)), None)
        if latest is None or latest.status is not PublicityStatus.completed:
            raise _refused(
                ctx,
                "publicity_not_completed",
                "The agreed price's publicity has not completed without an upheld objection yet.",
                "协议定价公示尚未期满（或异议成立），不能签订合同。",
            )
        if price != latest.proposed_price:
            raise _price_differs(ctx, latest.proposed_price)
    elif deal.pricing_route is PricingRoute.listing:
        offered = await _listing_price(ctx)
        if offered is None:
            raise _route_required(
                ctx,
                "The listing has not agreed this deal with a qualified buyer.",
                "挂牌尚未与合格受让方达成交易。",
            )
        if price != offered:
            raise _price_differs(ctx, offered)
    elif deal.pricing_route is PricingRoute.auction:
        sold = await _auction_price(ctx)
        if sold is None:
            raise _route_required(ctx, "No auction of this deal has been sold.", "该项目的网络竞价尚未成交。")
        if price != sold:
            raise _price_differs(ctx, sold)
    else:
        raise _route_required(
            ctx,
            "A university or research institute prices by agreement with publicity, listing or auction.",
            "高等院校、科研院所转让科技成果须通过协议定价公示、挂牌交易或拍卖确定价格。",
        )


@guard(DealStage.agreed)
async def route_result_by_the_system(ctx: MoveContext) -> None:
    if ctx.deal.pricing_route in SYSTEM_ROUTES and Mover.system not in ctx.movers:
        raise _refused(
            ctx,
            "agreed_by_route_only",
            "This deal is priced by listing or auction: its result agrees it, not a person.",
            "该项目通过挂牌或拍卖定价，只能由交易结果确定成交，不能人工确认成交。",
        )


def _route_required(ctx: MoveContext, en: str, zh: str) -> Conflict:
    return _refused(ctx, "pricing_route_required", en, zh)


def _price_differs(ctx: MoveContext, published: Decimal) -> Conflict:
    return _refused(
        ctx,
        "price_differs_from_published",
        f"The agreed price differs from the price the route made public ({published}).",
        f"成交价与公开确定的价格（{published:,.2f} 元）不一致。",
        published_price=str(published),
    )


async def _listing_price(ctx: MoveContext) -> Decimal | None:
    """The offer of the deal's buyer, qualified on this deal's agreed listing."""
    statement = (
        select(ListingIntention.offer_price)
        .join(ListingAnnouncement, ListingAnnouncement.id == ListingIntention.announcement_id)
        .where(
            ListingAnnouncement.deal_id == ctx.deal.id,
            ListingAnnouncement.status == AnnouncementStatus.agreed,
            ListingIntention.status == IntentionStatus.qualified,
            ListingIntention.buyer_organization_id == ctx.deal.buyer_organization_id,
        )
        .order_by(ListingAnnouncement.closed_at.desc())
        .limit(1)
    )
    return (await ctx.session.execute(statement)).scalar_one_or_none()


async def _auction_price(ctx: MoveContext) -> Decimal | None:
    statement = (
        select(Auction.best_amount)
        .where(Auction.deal_id == ctx.deal.id, Auction.status == AuctionStatus.sold)
        .order_by(Auction.closed_at.desc())
        .limit(1)
    )
    return (await ctx.session.execute(statement)).scalar_one_or_none()
