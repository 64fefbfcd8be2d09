"""Webhook deliveries (`webhook.deliver` outbox rows): POST the notification as JSON, signed the
Standard Webhooks way (https://www.standardwebhooks.com): `webhook-id` is the notification id, the
same on every retry so receivers drop duplicates; `webhook-timestamp`; `webhook-signature`, an
HMAC-SHA256 with the subscription's secret, so a receiver knows the post came from us, unaltered.

Only public addresses are posted to — checked when the subscription is saved and again when each
connection is made, on the addresses actually connected to (a name may resolve elsewhere by then) —
so that a subscriber cannot make the server reach the internal network or a cloud metadata service.

A non-2xx answer or a transport error is retried on the settings' schedule (about a day, not the
index's seconds), then given up. Deliveries run on a relay of their own and in parallel, so that a
slow or dead receiver holds up neither the search index nor the other receivers."""

import asyncio
import base64
import ipaddress
import json
import logging
import secrets
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app.audit.service import SystemActor, record
from app.core.config import Settings
from app.core.db import Database
from app.core.types import in_china_time
from app.matching.models import Notification, NotificationKind, Subscription
from app.outbox.models import OutboxMessage
from search.relay import Relay

log = logging.getLogger("techex.webhooks")
TOPIC = "webhook.deliver"
PARALLEL_DELIVERIES = 16

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# IPv6 addresses whose last 32 bits are an IPv4 address the packets are delivered to: NAT64's
# well-known prefix (RFC 6052), IPv4-mapped, IPv4-translated (RFC 2765) and the deprecated
# IPv4-compatible form (::/96, which also holds :: and ::1 — 0.0.0.0 and 0.0.0.1, refused alike).
_CARRY_IPV4 = tuple(
    ipaddress.IPv6Network(prefix) for prefix in ("64:ff9b::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "::/96")
)
# NAT64's local-use prefix (RFC 8215): where the IPv4 address sits depends on the operator's prefix
# length, which cannot be known from here, so none of it is public.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def allowed(address: str, networks: Iterable[Network]) -> bool:
    """Public unicast, or inside a range the operator allowed. The one judge of an address, when a
    subscription is saved and on every connection. An IPv6 address that carries an IPv4 one (NAT64,
    6to4, IPv4-mapped or -compatible, Teredo) is judged by that IPv4 address, by the same rule: to
    the rule's eye [64:ff9b::a9fe:a9fe] is 169.254.169.254."""
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone index is not part of the address
    networks = list(networks)
    if any(ip in network for network in networks):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return False
        if any(ip in prefix for prefix in _CARRY_IPV4):
            return allowed(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)), networks)
        if ip.sixtofour is not None:
            return allowed(str(ip.sixtofour), networks)
        if ip.teredo is not None:
            # Tunnelled through the Teredo server to the client behind its NAT: both are judged,
            # and the Teredo prefix itself (2001::/32) is not public either.
            return _public(ip) and all(allowed(str(embedded), networks) for embedded in ip.teredo)
    return _public(ip)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


class RefusedDestination(Exception):
    code = "not_public_address"


class Unresolvable(RefusedDestination):
    code = "unresolvable"


async def addresses(
    host: str, port: int, networks: Iterable[Network], resolve_seconds: float | None
) -> list[str]:
    """The addresses `host` resolves to, all of them allowed, else RefusedDestination — one refused
    address refuses the name, or the connection could land on it."""
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), resolve_seconds
        )
    except (OSError, TimeoutError) as exc:
        raise Unresolvable(f"{host} cannot be resolved") from exc
    resolved = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not resolved:
        raise Unresolvable(f"{host} resolves to no address")
    refused = [address for address in resolved if not allowed(address, networks)]
    if refused:
        raise RefusedDestination(f"{host} resolves to {', '.join(refused)}, not a public address")
    return resolved


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Connects only to allowed addresses, by address, so the name cannot be resolved again in
    between (DNS rebinding); TLS still verifies the certificate against the name."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = list(networks)
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 — httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            candidates = await addresses(host, port, self.networks, timeout)
        except RefusedDestination as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        failure: Exception | None = None
        for address in candidates:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client deliveries go through: public addresses only, no redirects followed (a
    redirect is the receiver's error, and could point inside), no proxy from the environment."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx does not take a network backend; its transport only forwards to this pool (tested:
    # tests/matching/test_webhooks.py refuses a loopback receiver through this client).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=PARALLEL_DELIVERIES * 2,
        network_backend=PublicOnlyBackend(settings.webhook_allowed_networks),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "Techex-Webhooks/1"},
    )


def _body(notification: Notification) -> str:
    if notification.kind is NotificationKind.match:
        event: dict[str, Any] = {
            "event": "listing.matched",
            "notification": {
                "id": str(notification.id),
                "subscription_id": str(notification.subscription_id),
                "listing_kind": notification.listing_kind,
                "listing_id": str(notification.listing_id),
                "title": notification.title,
                "explanation": notification.explanation,
                "created_at": in_china_time(notification.created_at),
            },
        }
    else:  # a step of an interest: interest.received, interest.accepted, …
        event = {
            "event": notification.kind.value.replace("_", ".", 1),
            "notification": {
                "id": str(notification.id),
                "kind": notification.kind.value,
                "listing_kind": notification.listing_kind,
                "listing_id": str(notification.listing_id),
                "title": notification.title,
                "explanation": notification.explanation,
                "details": notification.details,
                "created_at": in_china_time(notification.created_at),
            },
        }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


def handler(http: httpx.AsyncClient, retry_seconds: Sequence[float]):  # type: ignore[no-untyped-def]
    attempts_allowed = 1 + len(retry_seconds)

    async def handle(session: AsyncSession, rows: Sequence[OutboxMessage]) -> dict[int, str]:
        ids = {row.id: uuid.UUID(row.payload["notification_id"]) for row in rows}
        notifications = {
            notification.id: notification
            for notification in await session.scalars(
                select(Notification).where(Notification.id.in_(list(ids.values())))
            )
        }
        # A match goes to its subscription's webhook; an interest's step names in the payload the
        # subscription whose webhook it goes to (app/interests/notify.py).
        targets = {
            row.id: uuid.UUID(row.payload["subscription_id"])
            if row.payload.get("subscription_id")
            else getattr(notifications.get(ids[row.id]), "subscription_id", None)
            for row in rows
        }
        subscriptions = {
            subscription.id: subscription
            for subscription in await session.scalars(
                select(Subscription).where(Subscription.id.in_([t for t in targets.values() if t]))
            )
        }
        limit = asyncio.Semaphore(PARALLEL_DELIVERIES)

        async def deliver(row: OutboxMessage) -> tuple[Notification, Subscription, str | None] | None:
            """The notification, its subscription and the failure (None: delivered); None when
            nothing was sent."""
            notification = notifications.get(ids[row.id])
            subscription = subscriptions.get(targets[row.id])  # type: ignore[arg-type]
            if notification is None or subscription is None or not subscription.webhook_url:
                return None  # subscription deleted or its webhook removed since: nothing to deliver
            body = _body(notification)
            async with limit:
                try:
                    response = await http.post(
                        subscription.webhook_url,
                        content=body.encode(),
                        headers=signed_headers(subscription.webhook_secret or "", str(notification.id), body),
                    )
                    if response.status_code >= 300:
                        raise RuntimeError(f"webhook answered {response.status_code}")
                except Exception as exc:
                    return notification, subscription, repr(exc)
            return notification, subscription, None

        outcomes = await asyncio.gather(*(deliver(row) for row in rows))
        retry: dict[int, str] = {}
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                continue
            notification, subscription, error = outcome
            if error is not None and (row.attempts or 0) + 1 < attempts_allowed:
                retry[row.id] = error
            elif error is not None:
                error = f"gave up after {attempts_allowed} attempts: {error}"
                log.warning("webhook given up", extra={"notification": str(ids[row.id]), "error": error})
            await _health(session, subscription, error, notification.created_at)
        return retry

    return handle


async def _health(
    session: AsyncSession, subscription: Subscription, error: str | None, notified_at: datetime
) -> None:
    """Keep the subscription's delivery health; its changes of state (failing, recovered) audited.
    Failing "since" the oldest notification not delivered — not the time of the failure, which
    comes after it — so that a redelivery from then (subscriptions.redeliver) includes it."""
    if error is None:
        if subscription.webhook_failing_since is not None:
            await record(
                session,
                actor=SystemActor(),
                object_type="subscription",
                object_id=subscription.id,
                action="webhook_recovered",
            )
        subscription.webhook_failing_since = subscription.webhook_last_error = None
        return
    error = error[:500]  # the column's length
    if subscription.webhook_failing_since is not None:
        subscription.webhook_failing_since = min(subscription.webhook_failing_since, notified_at)
    else:
        subscription.webhook_failing_since = notified_at
        await record(
            session,
            actor=SystemActor(),
            object_type="subscription",
            object_id=subscription.id,
            action="webhook_failing",
            changes={"error": error},
        )
    subscription.webhook_last_error = error


def relay(database: Database, settings: Settings, http: httpx.AsyncClient) -> Relay:
    """Deliveries' own relay, in small batches."""
    schedule = settings.webhook_retry_seconds

    def retry_delay(attempts: int) -> timedelta:
        return timedelta(seconds=schedule[min(attempts, len(schedule)) - 1] if schedule else 0)

    return Relay(
        database,
        {TOPIC: handler(http, schedule)},
        batch_size=PARALLEL_DELIVERIES * 4,
        retry_delay=retry_delay,
    )
