"""`techex seed-demo` for the listing route: one running listing period, made through the services
the API calls, each step by the role that makes it. A demo technology manager opens a lead on a
demo university's achievement that no deal or interest touches yet, the university mandates them,
they bring it to negotiating and announce the listing; two demo companies file intentions, one of
them already qualified.

Runs after the deals' seeder (its technology managers and companies). Idempotent: once a listing
announcement exists, running it again adds nothing."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.contracts.demo import EMAIL_DOMAIN
from app.core.config import Settings
from app.core.types import CENT
from app.deals import mandates
from app.deals import service as deals
from app.deals.demo import COMPANIES
from app.deals.schemas import DealCreate, MandateIn, StageMove
from app.deals.vocabulary import DealStage
from app.trading.demo import demo_user, untouched_achievement
from app.trading.listing import intentions, service
from app.trading.listing.period import today
from app.trading.listing.schemas import AnnouncementCreate, IntentionCreate, IntentionDecision
from app.trading.models import ListingAnnouncement

FLOOR = Decimal("1200000.00")


async def seed_listing(session: AsyncSession, settings: Settings) -> str:
    present = (await session.execute(select(func.count()).select_from(ListingAnnouncement))).scalar_one()
    if present:
        return f"listing: 0 added, {present} announcements already present"
    broker = await demo_user(session, User.email == f"broker1@{EMAIL_DOMAIN}")
    achievement = await untouched_achievement(session)
    companies = [
        await demo_user(session, Organization.name == name, User.role == Role.member)
        for name in COMPANIES[:2]
    ]
    if broker is None or achievement is None or None in companies:
        return "listing: 0 added (no demo deals' brokers, universities or companies)"
    seller = await demo_user(
        session, Organization.id == achievement.owner_organization_id, User.role == Role.member
    )
    assert seller is not None
    lead = await deals.create_lead(
        session,
        user=broker,
        data=DealCreate(title=f"{achievement.title[:190]} 挂牌转让", achievement_id=achievement.id),
    )
    mandate = MandateIn(
        engaged_by_organization_id=seller.organization_id,
        technology_manager_id=broker.id,
        commission_rate=Decimal("0.03"),
        starts_on=today(),
    )
    await mandates.put(session, user=seller, deal_id=lead.id, data=mandate, if_match=None)
    for step in (DealStage.mandated, DealStage.diligence, DealStage.negotiating):
        mover = seller if step is DealStage.mandated else broker
        await deals.move(session, user=mover, deal_id=lead.id, data=StageMove(to=step), if_match=None)
    ratio = (settings.auction_deposit_min_ratio + settings.auction_deposit_max_ratio) / 2
    announcement = await service.announce(
        session,
        user=broker,
        data=AnnouncementCreate(
            deal_id=lead.id,
            title=f"{achievement.title[:190]} 挂牌转让",
            floor_price=FLOOR,
            transfer_mode=(achievement.transfer_modes or ["transfer"])[0],
            conditions="受让方须在成交后 30 日内一次付清价款；不得将专利权再转让给境外主体。",
            buyer_qualifications="依法设立并有效存续的企业法人，具备相应的产业化能力。",
            deposit_amount=(FLOOR * ratio).quantize(CENT),
            period_working_days=max(20, settings.listing_min_period_working_days),
            extension_working_days=max(5, settings.listing_min_extension_working_days),
            max_extensions=2,
            after_period="期满一家合格意向受让方：按其报价协议成交；两家以上：网络竞价；"
            "无合格意向受让方：每次延长 5 个工作日，最多两次，仍无则终结挂牌。",
            auction_increment=Decimal("20000.00"),
        ),
        settings=settings,
    )
    for company, offer in zip(companies, ("1250000.00", "1200000.00"), strict=True):
        assert company is not None
        intention = await intentions.file_intention(
            session,
            user=company,
            announcement_id=announcement.id,
            data=IntentionCreate(offer_price=Decimal(offer), note="拟用于本公司产品升级"),
            settings=settings,
        )
        if offer == "1250000.00":
            await intentions.decide(
                session,
                user=seller,
                announcement_id=announcement.id,
                intention_id=intention.id,
                data=IntentionDecision(decision="qualify"),
            )
    return f"listing: 1 running period added (ends {announcement.period_ends_on}), 2 intentions"
