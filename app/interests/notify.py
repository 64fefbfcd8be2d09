"""Telling the other side of an interest: a notification for each of its active users (the existing
`/api/v1/notifications`), written in the same transaction as the step, and a webhook delivery
through the outbox to each webhook those users have.

A webhook belongs to a subscription; there is no account-level one. A step of an interest goes to
every distinct webhook address of the recipient's active subscriptions, once per address, signed with
that subscription's secret, as `interest.received`, `interest.accepted`, … beside `listing.matched`
(docs/deals.md). What is posted is the notification itself: the listing, the step and
its details — never contacts nor confidential details, which the recipient reads through the API."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.models import Interest
from app.interests import repository
from app.matching import webhooks
from app.matching.models import Notification, NotificationKind
from app.outbox.service import enqueue


async def owner_side(session: AsyncSession, interest: Interest) -> list[uuid.UUID]:
    return await repository.active_members(session, interest.owner_organization_id)


async def interested_side(session: AsyncSession, interest: Interest) -> list[uuid.UUID]:
    """The interested organization's users, and the technology manager who filed for it."""
    users = await repository.active_members(session, interest.organization_id)
    if interest.on_behalf_broker_id is not None and interest.on_behalf_broker_id not in users:
        users += await repository.active_user_ids(session, [interest.on_behalf_broker_id])
    return users


async def notify(
    session: AsyncSession,
    *,
    kind: NotificationKind,
    interest: Interest,
    recipients: Sequence[uuid.UUID],
    title: str,
    explanation: list[str],
    details: dict[str, Any],
) -> list[Notification]:
    listing_kind = "achievement" if interest.achievement_id is not None else "demand"
    listing_id = interest.achievement_id or interest.demand_id
    assert listing_id is not None
    return await send(
        session,
        kind=kind,
        listing_kind=listing_kind,
        listing_id=listing_id,
        recipients=recipients,
        title=title,
        explanation=explanation,
        details={"interest_id": str(interest.id), **details},
    )


async def send(
    session: AsyncSession,
    *,
    kind: NotificationKind,
    listing_kind: str,
    listing_id: uuid.UUID,
    recipients: Sequence[uuid.UUID],
    title: str,
    explanation: list[str],
    details: dict[str, Any],
) -> list[Notification]:
    """A step concerning a listing (an interest's, a trading route's): one notification per
    recipient, and a webhook delivery per distinct address of the recipients' subscriptions."""
    notifications = {
        user_id: Notification(
            id=uuid.uuid4(),
            user_id=user_id,
            kind=kind,
            subscription_id=None,
            listing_kind=listing_kind,
            listing_id=listing_id,
            title=title[:200],
            explanation=[line[:200] for line in explanation],
            details=details,
        )
        for user_id in dict.fromkeys(recipients)
    }
    session.add_all(notifications.values())
    await session.flush()
    posted: set[tuple[uuid.UUID, str]] = set()
    for subscription in await repository.webhooks_of(session, list(notifications)):
        assert subscription.webhook_url is not None
        if (subscription.user_id, subscription.webhook_url) in posted:
            continue  # two subscriptions of the user posting to one address: once is enough
        posted.add((subscription.user_id, subscription.webhook_url))
        notification = notifications[subscription.user_id]
        enqueue(
            session,
            topic=webhooks.TOPIC,
            key=str(notification.id),
            payload={"notification_id": str(notification.id), "subscription_id": str(subscription.id)},
        )
    return list(notifications.values())
