"""`techex seed-demo` for agreed-price publicity: the demo deal that stands at `agreed` publishes
its price and runs its period (anyone may object on /publicity/trading and through the API), and
`published_long_ago` — what the deals' demo calls for a university's deal it signs — publishes a
price whose period has run out, so the signing guard (app/trading/guards.py) lets it through.

Runs after seed_deals. Idempotent: a deal whose price was published is left as it is."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, User
from app.core.config import Settings
from app.core.types import in_china_time
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.trading.guards import PUBLIC_SELLERS
from app.trading.models import PricingPublicity
from app.trading.publicity import repository, service
from app.trading.publicity.completion import complete_if_due

TERMS = "合同签订后 30 日内一次性支付；转让方提供技术资料与三个月技术指导。"


async def published_long_ago(
    session: AsyncSession, settings: Settings, seller: User, deal: Deal
) -> PricingPublicity:
    """The deal's price published by `seller` a period and a day ago (demo history, as the deals'
    demo ages its interests), completed with no objection."""
    publicity = await service.publish(session, user=seller, deal_id=deal.id, terms=TERMS, settings=settings)
    back = timedelta(days=publicity.period_days + 1)
    publicity.starts_at -= back
    publicity.ends_at -= back
    await complete_if_due(session, publicity)
    return publicity


async def seed_publicity(session: AsyncSession, settings: Settings) -> str:
    """The first demo deal at `agreed` whose seller is a university or institute publishes its price."""
    statement = (
        select(Deal, User)
        .join(Organization, Organization.id == Deal.seller_organization_id)
        .join(User, User.organization_id == Organization.id)
        .where(
            Deal.stage == DealStage.agreed,
            Deal.broker_user_id.is_not(None),
            Organization.kind.in_(PUBLIC_SELLERS),
            User.is_active,
        )
        .order_by(Deal.created_at, User.email)
        .limit(1)
    )
    found = (await session.execute(statement)).first()
    if found is None:
        return "pricing publicity: 0 added (no agreed demo deal of a university)"
    deal, seller = found
    if await repository.of_deal(session, deal.id):
        return "pricing publicity: 0 added, the demo's already present"
    publicity = await service.publish(session, user=seller, deal_id=deal.id, terms=TERMS, settings=settings)
    return f"pricing publicity: 1 running until {in_china_time(publicity.ends_at)}"
