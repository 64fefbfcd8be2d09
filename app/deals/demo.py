"""`techex seed-demo` for deals: interests in the demo universities' achievements (open, some long
unanswered, declined with reasons, accepted) and the deals they opened, brought to every stage by
the services the API calls, each step by the role that makes it: the buyer expresses interest, the
university accepts and mandates a technology manager of a demo agency, the broker moves the deal,
the university publishes its price before signing (协议定价公示, its period already run), the
broker hands it off to registration, the office registers it and the outcome reaches the deal as
the outbox's relay brings it. So history, audit, reached-stage timestamps and the reward
attribution are real.

Runs after the listings and the contracts (their organisations, members and offices). Idempotent:
once the demo agencies' technology managers broker a deal, running it again adds nothing."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.accounts import service as accounts
from app.accounts.models import Organization, OrganizationKind, Role, User
from app.accounts.schemas import OrganizationCreate
from app.audit.service import SystemActor
from app.contracts import service as contracts
from app.contracts import transitions
from app.contracts.demo import EMAIL_DOMAIN, _credit_code
from app.contracts.documents import document_store
from app.contracts.workflow import Action
from app.core.config import Settings
from app.core.types import today_in_china
from app.deals import mandates
from app.deals import service as deals
from app.deals.handoff import outcome
from app.deals.handoff import service as handoff
from app.deals.handoff.schemas import HandOff
from app.deals.models import Deal, Interest
from app.deals.schemas import MandateIn, StageMove
from app.deals.vocabulary import DealStage, DeclineReason
from app.interests import service as interests
from app.interests.schemas import InterestCreate, InterestDecline
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus
from app.trading.publicity.demo import published_long_ago

S = DealStage
# The agencies (服务机构) whose technology managers broker the demo deals: name, county code.
AGENCIES = [
    ("江苏省技术产权交易所技术转移服务中心", "320106"),
    ("苏州工业园区科技成果转化服务有限公司", "320506"),
    ("无锡太湖知识产权运营有限公司", "320214"),
]
# The selling universities (the listings' and contracts' demo organisations) and the buying
# companies (the contracts' demo sellers, with a member each).
UNIVERSITIES = ["南京大学", "东南大学", "苏州大学", "江南大学", "中国矿业大学", "扬州大学"]
COMPANIES = [
    "南京紫金智能装备有限公司",
    "昆山精工模具技术有限公司",
    "苏州恒锐新材料科技有限公司",
    "常州天润智能制造有限公司",
    "无锡澄星光伏科技有限公司",
    "南通海工装备有限公司",
]
# Each deal's stage; the registered ones count toward this year's rewards.
STAGES = [
    S.lead,
    S.mandated,
    S.diligence,
    S.negotiating,
    S.agreed,
    S.signed,
    S.registration_submitted,
    S.registered,
    S.registered,
    S.registered,
    S.on_hold,
    S.lost,
]
FORWARD = [S.mandated, S.diligence, S.negotiating, S.agreed, S.signed]
# Interests left as they are: open ones (days since filed) and declined ones.
OPEN_AGES = [2, 9, 23, 41]
DECLINES = [
    (DeclineReason.price, "报价低于成果评估价值，暂不考虑。"),
    (DeclineReason.too_early, "成果尚在小试阶段，暂不对外转让。"),
    (DeclineReason.not_a_fit, "贵方产线与该技术路线不匹配。"),
]
HAND_OFF = {
    "valid_until": "2030-12-31",
    "socio_economic_objective": "促进工业发展",
    "expected_new_investment": "3000000.00",
    "expected_new_output": "8000000.00",
}


@dataclass
class _World:
    brokers: list[User]
    universities: list[tuple[User, list[Achievement]]]
    companies: list[User]


async def _member(session: AsyncSession, organization_name: str) -> User | None:
    statement = (
        select(User)
        .join(Organization, User.organization_id == Organization.id)
        .options(joinedload(User.organization))
        .where(Organization.name == organization_name, User.role == Role.member)
        .order_by(User.email)
        .limit(1)
    )
    return (await session.execute(statement)).scalar()


async def _broker(session: AsyncSession, name: str, region: str, index: int) -> User:
    email = f"broker{index}@{EMAIL_DOMAIN}"
    found = (
        await session.execute(select(User).options(joinedload(User.organization)).where(User.email == email))
    ).scalar()
    if found is not None:
        return found
    organization = (await session.execute(select(Organization).where(Organization.name == name))).scalar()
    if organization is None:
        data = OrganizationCreate(
            kind=OrganizationKind.agency,
            name=name,
            credit_code=_credit_code(name, region),
            region_code=region,
        )
        organization = await accounts.create_organization(
            session, actor=SystemActor(), data=data, verified=True
        )
    user = await accounts.create_user(
        session,
        actor=SystemActor(),
        organization=organization,
        email=email,
        password=secrets.token_urlsafe(24),
        role=Role.tech_manager,
        full_name=f"演示技术经理人{index}",
    )
    user.organization = organization
    return user


async def _world(session: AsyncSession) -> _World | None:
    universities = []
    for name in UNIVERSITIES:
        member = await _member(session, name)
        if member is None:
            continue
        published = (
            await session.execute(
                select(Achievement)
                .where(
                    Achievement.owner_organization_id == member.organization_id,
                    Achievement.status == ListingStatus.published,
                )
                .order_by(Achievement.title)
                .limit(6)
            )
        ).scalars()
        universities.append((member, list(published)))
    companies = [m for m in [await _member(session, name) for name in COMPANIES] if m is not None]
    if not universities or not companies:
        return None  # the listings and contracts seeders did not run
    brokers = [await _broker(session, name, region, i + 1) for i, (name, region) in enumerate(AGENCIES)]
    return _World(brokers, universities, companies)


def _transfer_mode(achievement: Achievement) -> str:
    for mode in ("transfer", "license_exclusive", "license_sole", "license_ordinary"):
        if mode in achievement.transfer_modes:
            return mode
    return "transfer"


async def _move(session: AsyncSession, user: User, deal: Deal, to: DealStage, **terms: object) -> Deal:
    return await deals.move(
        session, user=user, deal_id=deal.id, data=StageMove(to=to, **terms), if_match=None
    )


async def _register(
    session: AsyncSession, settings: Settings, deal: Deal, broker: User, seller: User, *, to: DealStage
) -> None:
    """The broker hands the signed deal off; the seller submits it; the office registers it (or
    has it under review); each outcome reaches the deal as the relay would bring it."""
    application = await handoff.hand_off(
        session, user=broker, deal_id=deal.id, body=HandOff.model_validate(HAND_OFF), settings=settings
    )
    await contracts.attach_document(
        session,
        user=seller,
        application_id=application.id,
        name="技术合同.txt",
        data=f"{application.project_name}\n{application.seller_name} / {application.buyer_name}\n".encode(),
        store=document_store(settings.data_dir),
    )
    officer_email = f"officer.{seller.organization.region_code[:4]}00@{EMAIL_DOMAIN}"
    officer = (await session.execute(select(User).where(User.email == officer_email))).scalar_one()

    async def act(user: User, action: Action, **params: object) -> None:
        await transitions.act(
            session, user=user, application_id=application.id, action=action, settings=settings, params=params
        )

    await act(seller, Action.submit)
    await outcome.apply(session, deal.id, application.id)
    if to is S.registered:
        await act(officer, Action.accept)
        await act(officer, Action.start_review)
        await act(officer, Action.register, technology_amount=application.claimed_technology_amount)
        await outcome.apply(session, deal.id, application.id)


async def _age(session: AsyncSession, interest_id: uuid.UUID, days: int) -> None:
    """Demo history: the interest was filed `days` ago (the service stamps now)."""
    interest = await session.get(Interest, interest_id)
    assert interest is not None
    interest.created_at = datetime.now(UTC) - timedelta(days=days)


async def seed_deals(session: AsyncSession, settings: Settings) -> str:
    world = await _world(session)
    if world is None:
        return "deals: 0 added (no demo listings or contracts to trade)"
    present = (
        await session.execute(
            select(func.count())
            .select_from(Deal)
            .where(Deal.broker_user_id.in_([b.id for b in world.brokers]))
        )
    ).scalar_one()
    if present:
        return f"deals: 0 added, {present} brokered by the demo agencies already present"
    # One achievement per interest, so no two open deals concern the same listing and buyer.
    listings = [(member, a) for member, published in world.universities for a in published]
    needed = len(STAGES) + len(OPEN_AGES) + len(DECLINES)
    assert len(listings) >= needed, f"{len(listings)} demo achievements, {needed} needed"
    today = today_in_china()
    filed = iter(listings)
    for i, stage in enumerate(STAGES):
        seller, achievement = next(filed)
        buyer, broker = world.companies[i % len(world.companies)], world.brokers[i % len(world.brokers)]
        body = InterestCreate(
            intended_use=f"拟将“{achievement.title}”用于本公司产品升级",
            budget_min=Decimal("300000.00"),
            budget_max=Decimal("1500000.00"),
            timeline="一年内完成转化",
        )
        interest = await interests.express(
            session, user=buyer, kind="achievement", listing_id=achievement.id, data=body
        )
        await _age(session, interest.id, 60 - 4 * i)
        answer = await interests.accept(session, user=seller, interest_id=interest.id)
        deal = await session.get(Deal, answer.deal_id)
        assert deal is not None
        if stage is S.lead:
            continue
        mandate = MandateIn(
            engaged_by_organization_id=seller.organization_id,
            technology_manager_id=broker.id,
            commission_rate=Decimal(f"0.0{3 + i % 4}"),
            starts_on=today,
        )
        deal = await mandates.put(session, user=seller, deal_id=deal.id, data=mandate, if_match=None)
        target = S.signed if stage in (S.registration_submitted, S.registered) else stage
        path = FORWARD[: FORWARD.index(target) + 1] if target in FORWARD else FORWARD[:3]
        for step in path:
            mover = seller if step is S.mandated else broker
            terms = {}
            if step is S.agreed:
                price = Decimal(200_000 + 137_500 * i).quantize(Decimal("0.01"))
                terms = {"agreed_price": price, "transfer_mode": _transfer_mode(achievement)}
            if step is S.signed:
                # A university signs at a price it published (协议定价公示, app/trading/guards.py).
                await published_long_ago(session, settings, seller, deal)
            deal = await _move(session, mover, deal, step, **terms)
        if stage is S.on_hold:
            await _move(session, broker, deal, S.on_hold, reason="买方等待董事会审批预算。")
        elif stage is S.lost:
            await _move(session, seller, deal, S.lost, reason="尽职调查发现专利权属存在争议。")
        elif stage in (S.registration_submitted, S.registered):
            await _register(session, settings, deal, broker, seller, to=stage)
    for days in OPEN_AGES:
        seller, achievement = next(filed)
        buyer = world.companies[days % len(world.companies)]
        body = InterestCreate(intended_use=f"了解“{achievement.title}”的许可条件")
        interest = await interests.express(
            session, user=buyer, kind="achievement", listing_id=achievement.id, data=body
        )
        await _age(session, interest.id, days)
    for i, (reason, note) in enumerate(DECLINES):
        seller, achievement = next(filed)
        buyer = world.companies[(i + 2) % len(world.companies)]
        body = InterestCreate(intended_use="拟合作开发下一代产品", budget_max=Decimal("100000.00"))
        interest = await interests.express(
            session, user=buyer, kind="achievement", listing_id=achievement.id, data=body
        )
        await interests.decline(
            session, user=seller, interest_id=interest.id, data=InterestDecline(reason=reason, note=note)
        )
    return (
        f"deals: {len(STAGES)} added (every stage, {STAGES.count(S.registered)} registered), "
        f"interests: {len(STAGES) + len(OPEN_AGES) + len(DECLINES)} added"
    )
