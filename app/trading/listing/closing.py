"""The end of a listing period (docs/trading.md): no qualified buyer → the announced
extension, else closed; one → the deal agreed at its offer; two or more → an auction among them.

Run by the worker (`conclude_due`) and lazily by a read of an announcement whose period ran out;
both hold the announcement's row lock and check again under it that it is running and due, so a
period ends once, whoever gets there first, and a restart simply finds what is still due."""

import logging
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor, record
from app.core import clock
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError
from app.core.types import CHINA, in_yuan
from app.deals import repository as deals_repository
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.matching.models import NotificationKind
from app.trading.auctions.service import open_auction
from app.trading.listing import notices, period, repository
from app.trading.models import ListingAnnouncement, ListingIntention
from app.trading.vocabulary import AnnouncementStatus, IntentionStatus, PricingRoute

log = logging.getLogger("techex.trading")
# The auction after a listing opens at this time of day, China time.
AUCTION_OPENS_AT = time(10, 0)
UNANSWERED = "挂牌期满时卖方尚未确认资格，视为未通过"


async def conclude_due(database: Database, settings: Settings) -> int:
    """Every period that ran out, one per transaction (the worker's periodic job)."""
    done = 0
    while True:
        async with database.sessionmaker() as session:
            announcement = await repository.next_due(session, clock.now())
            if announcement is None:
                return done
            await conclude(session, announcement, settings)
            await session.commit()
        done += 1


async def settle(session: AsyncSession, announcement: ListingAnnouncement, settings: Settings) -> None:
    """A read found the period over but the announcement still running: end it now, under its lock."""
    locked = await repository.get(session, announcement.id, lock=True)
    if locked is not None and locked.status is AnnouncementStatus.running and locked.ends_at <= clock.now():
        await conclude(session, locked, settings)


async def conclude(session: AsyncSession, announcement: ListingAnnouncement, settings: Settings) -> None:
    """The caller holds the running announcement whose period ran out."""
    deal = await deals_repository.get_for_system(session, announcement.deal_id)
    assert deal is not None  # deals are never deleted (RESTRICT)
    live = await repository.live_intentions(session, announcement.id)
    qualified = [i for i in live if i.status is IntentionStatus.qualified]
    if deal.stage is not DealStage.negotiating:
        # Put on hold or lost meanwhile: the period cannot conclude a deal that is not negotiating.
        await _end(
            session, announcement, deal, live, AnnouncementStatus.withdrawn, reason="deal_not_negotiating"
        )
    elif not qualified and _extension_left(announcement):
        await _extend(session, announcement, deal, live)
    elif not qualified:
        await _end(session, announcement, deal, live, AnnouncementStatus.closed_no_buyer)
    elif len(qualified) == 1:
        await _agree(session, announcement, deal, live, qualified[0])
    else:
        await _to_auction(session, announcement, deal, live, qualified, settings)


def _extension_left(announcement: ListingAnnouncement) -> bool:
    return (
        announcement.extension_working_days is not None
        and announcement.extensions_used < announcement.max_extensions
    )


async def _extend(
    session: AsyncSession, announcement: ListingAnnouncement, deal: Deal, live: list[ListingIntention]
) -> None:
    """The announced step, from the period's last day (from today if the worker was down past it,
    so that an extension is never already over)."""
    assert announcement.extension_working_days is not None
    before = announcement.period_ends_on
    start = max(before, period.today())
    announcement.period_ends_on = await period.working_days_after(
        session, start, announcement.extension_working_days
    )
    announcement.ends_at = period.end_of(announcement.period_ends_on)
    announcement.extensions_used += 1
    announcement.version += 1
    await record(
        session,
        actor=SystemActor(),
        object_type="listing_announcement",
        object_id=announcement.id,
        action="extended",
        changes={
            "period_ends_on": [before, announcement.period_ends_on],
            "extensions_used": announcement.extensions_used,
        },
    )
    await _tell_ended(
        session,
        announcement,
        deal,
        live,
        outcome="extended",
        line=f"无合格意向受让方，挂牌期延长至 {announcement.period_ends_on}"
        f"（第 {announcement.extensions_used} 次延长）。",
    )


async def _agree(
    session: AsyncSession,
    announcement: ListingAnnouncement,
    deal: Deal,
    live: list[ListingIntention],
    buyer: ListingIntention,
) -> None:
    try:
        # A guard of `agreed` may refuse (e.g. a fixed commission above the offer): the listing
        # then ends withdrawn with that reason rather than staying due for ever.
        async with session.begin_nested():
            await deals.agree_as_system(
                session,
                deal.id,
                route=PricingRoute.listing,
                price=buyer.offer_price,
                transfer_mode=announcement.transfer_mode,
                buyer_organization_id=buyer.buyer_organization_id,
                reason="挂牌期满，一家合格意向受让方，按其报价成交",
            )
    except AppError as refused:
        log.warning("listing outcome refused by the deal: %s", refused)
        await session.refresh(deal)  # the savepoint's rollback expired what it had changed
        # The most specific code: a field's (below_commission) rather than validation_failed.
        reason = refused.errors[0].code if refused.errors else refused.code
        await _end(session, announcement, deal, live, AnnouncementStatus.withdrawn, reason=reason)
        return
    await _end(
        session,
        announcement,
        deal,
        live,
        AnnouncementStatus.agreed,
        buyer=str(buyer.buyer_organization_id),
        price=in_yuan(buyer.offer_price),
    )


async def _to_auction(
    session: AsyncSession,
    announcement: ListingAnnouncement,
    deal: Deal,
    live: list[ListingIntention],
    qualified: list[ListingIntention],
    settings: Settings,
) -> None:
    """Bidding among the qualified buyers opens at the floor price: the offers are each buyer's
    intention to buy at no less than the floor, and the auction finds the price among them."""
    day = await period.working_days_after(
        session, max(announcement.period_ends_on, period.today()), settings.listing_auction_start_working_days
    )
    starts_at = datetime.combine(day, AUCTION_OPENS_AT, tzinfo=CHINA)
    assert announcement.auction_increment is not None
    auction = await open_auction(
        session,
        actor=SystemActor(),
        deal_id=deal.id,
        seller_organization_id=announcement.seller_organization_id,
        achievement_id=announcement.achievement_id,
        title=announcement.title,
        transfer_mode=announcement.transfer_mode,
        opening_price=announcement.floor_price,
        increment=announcement.auction_increment,
        reserve_price=None,
        deposit_amount=announcement.deposit_amount,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=settings.listing_auction_duration_minutes),
        bidder_organization_ids=[i.buyer_organization_id for i in qualified],
        announcement_id=announcement.id,
    )
    await _end(
        session,
        announcement,
        deal,
        live,
        AnnouncementStatus.to_auction,
        auction_id=str(auction.id),
        auction_starts_at=starts_at.isoformat(),
    )


OUTCOME_LINES = {
    AnnouncementStatus.closed_no_buyer: "挂牌期满，无合格意向受让方，挂牌终结。",
    AnnouncementStatus.agreed: "挂牌期满，一家合格意向受让方，按其报价协议成交。",
    AnnouncementStatus.to_auction: "挂牌期满，两家以上合格意向受让方，转入网络竞价。",
    AnnouncementStatus.withdrawn: "交易项目已不在洽谈定价阶段或不能按挂牌结果成交，挂牌终结。",
}


async def _end(
    session: AsyncSession,
    announcement: ListingAnnouncement,
    deal: Deal,
    live: list[ListingIntention],
    status: AnnouncementStatus,
    **details: str,
) -> None:
    """The final outcome: intentions the seller never answered count as not qualified."""
    now = clock.now()
    for intention in live:
        if intention.status is IntentionStatus.filed:
            intention.status = IntentionStatus.rejected
            intention.decided_at = now
            intention.rejection_reason = UNANSWERED
    announcement.status = status
    announcement.closed_at = now
    announcement.version += 1
    if status in (AnnouncementStatus.closed_no_buyer, AnnouncementStatus.withdrawn):
        await deals.release_pricing_route(session, deal.id, reason=f"listing_{status.value}")
    await record(
        session,
        actor=SystemActor(),
        object_type="listing_announcement",
        object_id=announcement.id,
        action="period_ended",
        changes={
            "status": status,
            "qualified": sum(i.status is IntentionStatus.qualified for i in live),
            **details,
        },
    )
    await _tell_ended(
        session, announcement, deal, live, outcome=status.value, line=OUTCOME_LINES[status], **details
    )


async def _tell_ended(
    session: AsyncSession,
    announcement: ListingAnnouncement,
    deal: Deal,
    live: list[ListingIntention],
    *,
    outcome: str,
    line: str,
    **details: str,
) -> None:
    recipients = await notices.seller_side(session, announcement, deal)
    recipients += await notices.members(session, (i.buyer_organization_id for i in live))
    await notices.tell(
        session,
        announcement,
        kind=NotificationKind.listing_period_ended,
        recipients=recipients,
        title=f"挂牌期满：{announcement.title}",
        explanation=[line],
        details={"outcome": outcome, **details},
    )
