"""The deal confirmation (成交确认书) of a listing agreed with its one qualified buyer or of an auction
sold: who, what, by which route, at what price, how the result came about, and the deposit."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core import clock
from app.core.config import Settings
from app.core.errors import Conflict
from app.core.pdf import amount_line, date_line
from app.core.types import CHINA
from app.deals import service as deals
from app.deals.models import Deal
from app.trading.certificates import documents, repository
from app.trading.certificates.service import MODE_LABELS
from app.trading.models import Auction, AuctionBidder, ListingAnnouncement, ListingIntention
from app.trading.vocabulary import DepositStatus, PricingRoute


def _time(at: datetime | None) -> str:
    return "—" if at is None else f"{at.astimezone(CHINA):%Y-%m-%d %H:%M}（北京时间）"


async def _parties(session: AsyncSession, deal: Deal) -> list[tuple[str, str]]:
    rows = []
    for label, organization_id in (
        ("转让方（卖方）", deal.seller_organization_id),
        ("受让方（买方）", deal.buyer_organization_id),
    ):
        organization = await repository.organization(session, organization_id)
        name = organization.name if organization is not None else "—"
        code = organization.credit_code if organization is not None else None
        rows.append((label, f"{name}\n统一社会信用代码：{code or '—'}"))
    broker = await repository.user(session, deal.broker_user_id)
    agency = await repository.organization(session, deal.broker_agency_id)
    if broker is not None:
        rows.append(
            (
                "技术经理人（服务机构）",
                f"{broker.full_name or broker.email}（{agency.name if agency else '—'}）",
            )
        )
    return rows


def _listing_rows(listing: ListingAnnouncement, intention: ListingIntention) -> list[tuple[str, str]]:
    extended = f"，延期 {listing.extensions_used} 次" if listing.extensions_used else ""
    rows = [
        ("交易方式", PricingRoute.listing.label),
        ("挂牌底价", amount_line(listing.floor_price)),
        (
            "挂牌期",
            f"{date_line(listing.period_starts_on)} 至 {date_line(listing.period_ends_on)}"
            f"（{listing.period_working_days} 个工作日{extended}）",
        ),
        ("成交方式", "挂牌期满仅一家合格意向受让方，按其报价成交"),
        ("成交价", amount_line(intention.offer_price)),
    ]
    if listing.deposit_amount:
        rows.append(("保证金", f"{amount_line(listing.deposit_amount)}，按挂牌公告转作价款"))
    rows.append(("成交时间", _time(listing.closed_at)))
    return rows


def _auction_rows(auction: Auction, winner: AuctionBidder | None) -> list[tuple[str, str]]:
    assert auction.best_amount is not None
    extended = f"，因最后时段出价延时 {auction.extensions} 次" if auction.extensions else ""
    rows = [
        ("交易方式", PricingRoute.auction.label),
        ("起拍价 / 加价幅度", f"{amount_line(auction.opening_price)} / {amount_line(auction.increment)}"),
        ("竞价时间", f"{_time(auction.starts_at)} 至 {_time(auction.closed_at)}{extended}"),
        ("有效出价次数", f"{auction.bid_count} 次"),
        ("竞得人竞买号", winner.code if winner is not None else "—"),
        ("成交价", amount_line(auction.best_amount)),
    ]
    if auction.deposit_amount and winner is not None:
        deposit = f"{amount_line(auction.deposit_amount)}，{winner.deposit_status.label}"
        if winner.deposit_status is DepositStatus.applied:
            deposit += f"；尚需支付 {amount_line(auction.best_amount - auction.deposit_amount)}"
        rows.append(("竞得人保证金", deposit))
    if auction.sign_by is not None:
        rows.append(("签约期限", f"{date_line(auction.sign_by)}前签订技术合同，逾期保证金不予退还"))
    return rows


NO_RESULT = "no_trading_result"


async def confirmation_pdf(
    session: AsyncSession, *, user: User, deal_id: uuid.UUID, settings: Settings
) -> bytes:
    deal = await deals.get(session, user=user, deal_id=deal_id)
    route_rows: list[tuple[str, str]] | None = None
    if deal.pricing_route is PricingRoute.listing:
        listing = await repository.agreed_listing(session, deal.id, deal.buyer_organization_id)
        route_rows = _listing_rows(*listing) if listing is not None else None
    elif deal.pricing_route is PricingRoute.auction:
        sold = await repository.sold_auction(session, deal.id)
        route_rows = _auction_rows(*sold) if sold is not None else None
    if route_rows is None:
        raise Conflict(
            code=NO_RESULT,
            message_en="Only a deal agreed by a listing or sold by an auction has a deal confirmation.",
            message_zh="只有挂牌成交或竞价成交的交易项目才有成交确认书。",
            extra={"current_status": deal.stage.value},
        )
    achievement = await repository.achievement(session, deal.achievement_id)
    subject = achievement.title if achievement is not None else deal.title
    rows = [
        ("交易标的", f"{subject}\n转化方式：{MODE_LABELS.get(deal.transfer_mode or '', '—')}"),
        *await _parties(session, deal),
        *route_rows,
    ]
    return documents.confirmation_pdf(
        title=deal.title,
        rows=rows,
        exchange=settings.certificate_exchange_name,
        made_on=clock.now().astimezone(CHINA).date(),
        deal_id=str(deal.id),
    )
