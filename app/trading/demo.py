"""What the trading routes' demo seeders share: finding the demo people and an achievement no deal
or interest has touched yet (each route's demo takes its own, so they do not collide)."""

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.accounts.models import Organization, User
from app.deals.demo import UNIVERSITIES
from app.deals.models import Deal, Interest
from app.listings.models import Achievement
from app.listings.vocabulary import ListingStatus


async def demo_user(session: AsyncSession, *where: object) -> User | None:
    """The first demo user (by e-mail) matching `where`, with their organization loaded."""
    statement = (
        select(User)
        .options(joinedload(User.organization))
        .join(Organization, User.organization_id == Organization.id)
    )
    return (await session.execute(statement.where(*where).order_by(User.email).limit(1))).scalar()


async def untouched_achievement(session: AsyncSession, *, last: bool = False) -> Achievement | None:
    """A published achievement of a demo university that no deal or interest concerns: the first by
    title, or the last (`last=True`) so that two seeders pick different ones."""
    title = Achievement.title.desc() if last else Achievement.title
    statement = (
        select(Achievement)
        .join(Organization, Achievement.owner_organization_id == Organization.id)
        .where(
            Organization.name.in_(UNIVERSITIES),
            Achievement.status == ListingStatus.published,
            ~exists().where(Deal.achievement_id == Achievement.id),
            ~exists().where(Interest.achievement_id == Achievement.id),
        )
        .order_by(title)
        .limit(1)
    )
    return (await session.execute(statement)).scalar()
