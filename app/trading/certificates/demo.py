"""`techex seed-demo` for transaction certificates (交易凭证): a deal between two demo companies,
brokered by a demo technology manager and carried to `signed` through the deal services (a company
seller needs no pricing route: 协议成交), certified by an administrator; and a certificate for every
deal whose listing, auction or publicity result stands and has none yet (the routes' demos).

Runs after the deals (their agencies' technology managers and the contracts' companies).
Idempotent: the demo deal is made once, and a deal is never certified twice."""

import secrets
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.accounts.models import Organization, OrganizationKind, Role, User
from app.accounts.schemas import OrganizationCreate
from app.audit.service import SystemActor
from app.contracts.demo import EMAIL_DOMAIN
from app.core.config import Settings
from app.core.errors import Conflict
from app.core.types import today_in_china
from app.deals import mandates
from app.deals import service as deals
from app.deals.models import Deal
from app.deals.schemas import DealCreate, DealUpdate, MandateIn, StageMove
from app.deals.vocabulary import DealStage
from app.trading.certificates import service
from app.trading.certificates.schemas import CertificateIssue
from app.trading.models import TransactionCertificate

TITLE = "精密注塑模具随形冷却流道设计技术转让"
SELLER, BUYER = "昆山精工模具技术有限公司", "常州天润智能制造有限公司"
BROKER_EMAIL = f"broker1@{EMAIL_DOMAIN}"
REVIEWER_EMAIL = f"exchange.reviewer@{EMAIL_DOMAIN}"
CONCLUSION = "经审核，本项目交易双方主体适格，交易程序合规，成交价格真实，准予出具交易凭证。"


async def _member(session: AsyncSession, organization_name: str) -> User | None:
    statement = (
        select(User)
        .join(Organization, User.organization_id == Organization.id)
        .where(Organization.name == organization_name, User.role == Role.member)
        .order_by(User.email)
        .limit(1)
    )
    return (await session.execute(statement)).scalar()


async def _reviewer(session: AsyncSession, settings: Settings) -> User:
    """The exchange's reviewer who issues the demo certificates (an administrator)."""
    found = (await session.execute(select(User).where(User.email == REVIEWER_EMAIL))).scalar()
    if found is not None:
        return found
    organization = (
        await session.execute(
            select(Organization).where(Organization.name == settings.certificate_exchange_name)
        )
    ).scalar()
    if organization is None:
        data = OrganizationCreate(
            kind=OrganizationKind.government, name=settings.certificate_exchange_name, region_code="320000"
        )
        organization = await accounts.create_organization(
            session, actor=SystemActor(), data=data, verified=True
        )
    return await accounts.create_user(
        session,
        actor=SystemActor(),
        organization=organization,
        email=REVIEWER_EMAIL,
        password=secrets.token_urlsafe(24),
        role=Role.admin,
        full_name="交易所审核员",
    )


async def _agreed_by_contract(session: AsyncSession) -> Deal | None:
    """The demo companies' deal, signed at a price they agreed (no pricing route: a company sells)."""
    seller, buyer = await _member(session, SELLER), await _member(session, BUYER)
    broker = (await session.execute(select(User).where(User.email == BROKER_EMAIL))).scalar()
    if seller is None or buyer is None or broker is None:
        return None  # the contracts' or the deals' seeders did not run
    lead = DealCreate(
        title=TITLE,
        seller_organization_id=seller.organization_id,
        buyer_organization_id=buyer.organization_id,
    )
    deal = await deals.create_lead(session, user=broker, data=lead)
    mandate = MandateIn(
        engaged_by_organization_id=seller.organization_id,
        technology_manager_id=broker.id,
        commission_rate=Decimal("0.03"),
        starts_on=today_in_china(),
    )
    await mandates.put(session, user=seller, deal_id=deal.id, data=mandate, if_match=None)
    terms = DealUpdate(payment_terms="合同生效后 15 个工作日内支付 40%，模具试产验收合格后支付其余 60%。")
    await deals.update(session, user=broker, deal_id=deal.id, data=terms, if_match=None)
    moves = [
        (seller, StageMove(to=DealStage.mandated)),
        (broker, StageMove(to=DealStage.diligence)),
        (broker, StageMove(to=DealStage.negotiating)),
        (broker, StageMove(to=DealStage.agreed, agreed_price=Decimal("680000.00"), transfer_mode="transfer")),
        (seller, StageMove(to=DealStage.signed)),
    ]
    for user, move in moves:
        deal = await deals.move(session, user=user, deal_id=deal.id, data=move, if_match=None)
    return deal


async def seed_certificates(session: AsyncSession, settings: Settings) -> str:
    made = None
    if (await session.execute(select(Deal.id).where(Deal.title == TITLE))).first() is None:
        made = await _agreed_by_contract(session)
        if made is None:
            return "transaction certificates: 0 issued (no demo companies or brokers to trade)"
    certified = select(TransactionCertificate.deal_id)
    candidates = (
        await session.execute(
            select(Deal.id)
            .where(
                Deal.stage.in_(service.CERTIFIABLE),
                Deal.id.not_in(certified),
                (Deal.pricing_route.is_not(None)) | (Deal.id == (made.id if made else None)),
            )
            .order_by(Deal.reached_agreed_at, Deal.id)
        )
    ).scalars()
    reviewer = await _reviewer(session, settings)
    numbers = []
    for deal_id in list(candidates):
        try:
            issued = await service.issue(
                session,
                user=reviewer,
                deal_id=deal_id,
                data=CertificateIssue(review_conclusion=CONCLUSION),
                settings=settings,
            )
        except Conflict:
            continue  # the route's result does not stand (yet): no certificate
        numbers.append(issued.number)
    if not numbers:
        return "transaction certificates: 0 issued"
    return f"transaction certificates: {len(numbers)} issued ({', '.join(numbers)}; see /verify/trade/…)"
