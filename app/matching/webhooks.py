"""Webhook deliveries (`webhook.deliver` outbox rows): POST the notification as JSON; a non-2xx
answer or a transport error is retried by the relay with exponential backoff, up to MAX_ATTEMPTS.
Each delivery carries `X-Techex-Delivery` (the notification id) so receivers can drop duplicates."""

import logging
import uuid
from collections.abc import Sequence

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.matching.models import Notification, Subscription
from app.outbox.models import OutboxMessage

log = logging.getLogger("techex.webhooks")
MAX_ATTEMPTS = 8


def handler(http: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    async def handle(session: AsyncSession, rows: Sequence[OutboxMessage]) -> dict[int, str]:
        failed: dict[int, str] = {}
        for row in rows:
            found = (
                await session.execute(
                    select(Notification, Subscription)
                    .join(Subscription, Subscription.id == Notification.subscription_id)
                    .where(Notification.id == uuid.UUID(row.payload["notification_id"]))
                )
            ).first()
            if found is None or not found[1].webhook_url:
                continue  # subscription deleted since: nothing to deliver
            notification, subscription = found
            body = {
                "event": "listing.matched",
                "notification": {
                    "id": str(notification.id),
                    "subscription_id": str(subscription.id),
                    "listing_kind": notification.listing_kind,
                    "listing_id": str(notification.listing_id),
                    "title": notification.title,
                    "explanation": notification.explanation,
                    "created_at": notification.created_at.isoformat(),
                },
            }
            try:
                response = await http.post(
                    subscription.webhook_url, json=body, headers={"X-Techex-Delivery": str(notification.id)}
                )
                if response.status_code >= 300:
                    raise RuntimeError(f"webhook answered {response.status_code}")
            except Exception as exc:
                if (row.attempts or 0) + 1 >= MAX_ATTEMPTS:
                    log.warning(
                        "webhook given up", extra={"notification": str(notification.id), "error": repr(exc)}
                    )
                    continue
                failed[row.id] = repr(exc)
        return failed

    return handle
