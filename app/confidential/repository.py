"""All SQL of the confidential details: the details of a listing, its documents, the deals a reader
stands in for a listing, disclosures and undertakings."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.confidential.models import ConfidentialDetails, ConfidentialDocument, Disclosure, Undertaking
from app.core.pagination import PageParams, fetch_page
from app.deals.models import Deal
from app.listings.models import ListingColumns

# A listing is named by its kind and id; these are the kinds with confidential details.
LISTING_COLUMN = {"achievement": "achievement_id", "demand": "demand_id"}


def _of_listing(model: Any, kind: str, listing_id: uuid.UUID) -> ColumnElement[bool]:
    return getattr(model, LISTING_COLUMN[kind]) == listing_id


async def listing(
    session: AsyncSession, model: type[ListingColumns], listing_id: uuid.UUID, *, lock: bool = False
) -> ListingColumns | None:
    """The listing whatever its status (a counterpart reads details of a closed listing too);
    locked when its details are about to change, so that concurrent writers queue."""
    statement = select(model).where(model.id == listing_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one_or_none()


async def details(session: AsyncSession, kind: str, listing_id: uuid.UUID) -> ConfidentialDetails | None:
    statement = select(ConfidentialDetails).where(_of_listing(ConfidentialDetails, kind, listing_id))
    return (await session.execute(statement)).scalar_one_or_none()


async def documents(session: AsyncSession, details_id: uuid.UUID) -> Sequence[ConfidentialDocument]:
    statement = (
        select(ConfidentialDocument)
        .where(ConfidentialDocument.details_id == details_id)
        .order_by(ConfidentialDocument.created_at, ConfidentialDocument.id)
    )
    return (await session.execute(statement)).scalars().all()


async def document(
    session: AsyncSession, details_id: uuid.UUID, document_id: uuid.UUID
) -> ConfidentialDocument | None:
    statement = select(ConfidentialDocument).where(
        ConfidentialDocument.id == document_id, ConfidentialDocument.details_id == details_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def deal(session: AsyncSession, deal_id: uuid.UUID) -> Deal | None:
    return await session.get(Deal, deal_id)


async def reader_deals(session: AsyncSession, kind: str, listing_id: uuid.UUID, user: User) -> Sequence[Deal]:
    """The deals on this listing in which `user` stands on the other side: a member of the
    counterpart organization (the buyer of an achievement, the seller for a demand) or the broker.
    Newest first."""
    counterpart = Deal.buyer_organization_id if kind == "achievement" else Deal.seller_organization_id
    statement = (
        select(Deal)
        .where(
            _of_listing(Deal, kind, listing_id),
            or_(counterpart == user.organization_id, Deal.broker_user_id == user.id),
        )
        .order_by(Deal.created_at.desc(), Deal.id)
    )
    return (await session.execute(statement)).scalars().all()


async def disclosure_in_force(
    session: AsyncSession, deal_id: uuid.UUID, kind: str, listing_id: uuid.UUID, *, lock: bool = False
) -> Disclosure | None:
    statement = select(Disclosure).where(
        Disclosure.deal_id == deal_id,
        _of_listing(Disclosure, kind, listing_id),
        Disclosure.revoked_at.is_(None),
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def disclosure(
    session: AsyncSession, deal_id: uuid.UUID, disclosure_id: uuid.UUID
) -> Disclosure | None:
    statement = (
        select(Disclosure)
        .where(Disclosure.id == disclosure_id, Disclosure.deal_id == deal_id)
        .with_for_update()
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def undertakings_of(
    session: AsyncSession, deal_id: uuid.UUID, kind: str, listing_id: uuid.UUID, user_id: uuid.UUID
) -> Sequence[Undertaking]:
    """`user_id`'s undertakings in this deal for this listing, the latest version first."""
    statement = (
        select(Undertaking)
        .where(
            Undertaking.deal_id == deal_id,
            _of_listing(Undertaking, kind, listing_id),
            Undertaking.user_id == user_id,
        )
        .order_by(Undertaking.details_version.desc())
    )
    return (await session.execute(statement)).scalars().all()


async def disclosure_page(
    session: AsyncSession, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[Disclosure], int]:
    statement = select(Disclosure).where(Disclosure.deal_id == deal_id)
    rows, total = await fetch_page(session, statement, page, Disclosure.created_at, Disclosure.id)
    return list(rows.scalars()), total


async def undertaking_page(
    session: AsyncSession, deal_id: uuid.UUID, page: PageParams
) -> tuple[list[Undertaking], int]:
    statement = select(Undertaking).where(Undertaking.deal_id == deal_id)
    rows, total = await fetch_page(session, statement, page, Undertaking.created_at, Undertaking.id)
    return list(rows.scalars()), total
