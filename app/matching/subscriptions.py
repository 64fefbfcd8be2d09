"""Subscriptions and notifications: saving a search or following a demand; when a newly published
listing matches, a notification is stored and, if a webhook is configured, a delivery is queued
in the outbox (delivered with retries by app/matching/webhooks.py)."""

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import AnyHttpUrl
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.service import record
from app.core.config import Settings
from app.core.db import add_unique
from app.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.core.pagination import PageParams, fetch_page
from app.listings import policy
from app.listings import repository as listings
from app.listings.models import Demand
from app.listings.vocabulary import ListingStatus
from app.matching import matches as matching
from app.matching import webhooks
from app.matching.models import Notification, Subscription, SubscriptionKind
from app.matching.schemas import SearchFilters, SubscriptionCreate, SubscriptionUpdate
from app.matching.search import every_word_query, filter_expression, kinds_for, only
from app.outbox.models import OutboxMessage
from app.outbox.service import enqueue
from search.engine import Engine
from search.indexer import load_public
from search.normalize import keyword_query, normalize

Owned = TypeVar("Owned", Subscription, Notification)


async def create(
    session: AsyncSession, *, user: User, data: SubscriptionCreate, settings: Settings
) -> Subscription:
    if data.webhook_url is not None:  # first: resolving a name may take seconds, with no connection held
        await _check_destination(data.webhook_url, settings)
    if data.kind == SubscriptionKind.demand:
        demand = None
        if data.demand_id is not None:
            demand = await listings.get_readable(session, Demand, data.demand_id, user)
        if demand is None or not policy.is_owner(user, demand):
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "demand_id", "not_own_demand", "not a demand of your organization", "不是本机构的需求"
                    )
                ]
            )
    elif not data.query.strip():
        raise ValidationFailed(
            errors=[FieldError("query", "required", "a saved search needs a query", "保存的搜索须填写搜索词")]
        )
    subscription = Subscription(
        id=uuid.uuid4(),
        user_id=user.id,
        organization_id=user.organization_id,
        kind=data.kind,
        name=data.name,
        query=data.query.strip(),
        types=list(data.types),
        filters=data.filters.model_dump(mode="json", exclude_none=True),
        demand_id=data.demand_id if data.kind == SubscriptionKind.demand else None,
        webhook_url=str(data.webhook_url) if data.webhook_url else None,
        webhook_secret=webhooks.new_secret() if data.webhook_url else None,
    )
    if await add_unique(session, subscription, "uq_subscriptions_user_demand"):
        existing = await session.scalar(
            select(Subscription.id).where(
                Subscription.user_id == subscription.user_id,
                Subscription.kind == SubscriptionKind.demand,
                Subscription.demand_id == data.demand_id,
            )
        )
        en, zh = "You already follow this demand.", "您已关注该需求。"
        raise Conflict(
            code="already_following",
            message_en=en,
            message_zh=zh,
            errors=[FieldError("demand_id", "already_following", en, zh)],
            extra={"subscription_id": str(existing)},
        )
    await record(
        session,
        actor=user,
        object_type="subscription",
        object_id=subscription.id,
        action="created",
        changes={
            "kind": data.kind.value,
            "query": subscription.query,
            "webhook_url": subscription.webhook_url,
        },
    )
    return subscription


async def _check_destination(url: AnyHttpUrl, settings: Settings) -> None:
    """Refuse a webhook the delivery would refuse: a name that does not resolve, or resolves to a
    non-public address (the delivery checks again on every connection)."""
    assert url.host is not None  # AnyHttpUrl requires one
    try:
        await webhooks.addresses(
            url.host.strip("[]"), url.port or 443, settings.webhook_allowed_networks, resolve_seconds=5
        )
    except webhooks.Unresolvable as exc:
        en, zh = f"the webhook's host {exc}", f"通知地址的主机名无法解析：{url.host}"
        raise ValidationFailed(errors=[FieldError("webhook_url", exc.code, en, zh)]) from exc
    except webhooks.RefusedDestination as exc:
        en, zh = f"webhooks are posted to public addresses only: {exc}", f"通知地址须为公网地址：{exc}"
        raise ValidationFailed(errors=[FieldError("webhook_url", exc.code, en, zh)]) from exc


async def edit(
    session: AsyncSession,
    *,
    user: User,
    subscription_id: uuid.UUID,
    data: SubscriptionUpdate,
    settings: Settings,
) -> tuple[Subscription, str | None]:
    """Rename, pause or resume, change or remove the webhook; the new secret when a webhook is
    added where there was none (a changed address keeps its secret: the receiver is the same)."""
    sent = data.model_dump(include=data.model_fields_set)
    if sent.get("webhook_url") is not None:
        await _check_destination(data.webhook_url, settings)  # type: ignore[arg-type]
    subscription = await _own(session, user, subscription_id)
    changes: dict[str, Any] = {}
    new_secret = None
    for name in ("name", "active"):
        if sent.get(name) is not None and sent[name] != getattr(subscription, name):
            setattr(subscription, name, sent[name])
            changes[name] = sent[name]
    if "webhook_url" in sent:
        url = str(data.webhook_url) if data.webhook_url is not None else None
        if url != subscription.webhook_url:
            if url is None:
                subscription.webhook_secret = None
            elif subscription.webhook_secret is None:
                new_secret = subscription.webhook_secret = webhooks.new_secret()
            subscription.webhook_url = url
            # A new address has no record yet: the old one's failures say nothing about it.
            subscription.webhook_failing_since = subscription.webhook_last_error = None
            changes["webhook_url"] = url
    if changes:
        await record(
            session,
            actor=user,
            object_type="subscription",
            object_id=subscription.id,
            action="updated",
            changes=changes,
        )
    return subscription, new_secret


async def rotate_webhook_secret(session: AsyncSession, *, user: User, subscription_id: uuid.UUID) -> str:
    """A new signing secret (the old one stops working at once), for a secret leaked or lost."""
    subscription = await _own_webhook(session, user, subscription_id)
    subscription.webhook_secret = webhooks.new_secret()
    await record(
        session,
        actor=user,
        object_type="subscription",
        object_id=subscription.id,
        action="webhook_secret_rotated",
    )
    return subscription.webhook_secret


# Notifications queued again per call; the caller goes on from `next_since`.
REDELIVER_AT_MOST = 1000


async def redeliver(
    session: AsyncSession, *, user: User, subscription_id: uuid.UUID, since: datetime | None
) -> tuple[int, datetime | None]:
    """Queue the webhook deliveries of the subscription's notifications created at or after `since`
    once more, for a receiver that was down past the retry schedule. By default from
    `webhook_failing_since`, the oldest notification not delivered; after a delivery has succeeded
    again there is no default, and the receiver says since when (the last delivery it had). Oldest
    first, at most REDELIVER_AT_MOST; returns how many were queued and the `since` to continue from
    (None: all queued). Each goes out under its notification's id, as the first time, so a receiver
    that had it drops the duplicate."""
    subscription = await _own_webhook(session, user, subscription_id)
    since = since or subscription.webhook_failing_since
    if since is None:
        en = "deliveries are not failing: say since when to deliver again"
        zh = "通知投递未失败，请指明从何时起重新投递"
        raise ValidationFailed(errors=[FieldError("since", "required", en, zh)])
    found = (
        await session.execute(
            select(Notification.id, Notification.created_at)
            .where(
                # Its matches, and the user's notifications of interests, which every webhook of
                # the user receives (app/interests/notify.py).
                or_(
                    Notification.subscription_id == subscription.id,
                    and_(
                        Notification.subscription_id.is_(None),
                        Notification.user_id == subscription.user_id,
                    ),
                ),
                Notification.created_at >= since,
            )
            .order_by(Notification.created_at, Notification.id)
            .limit(REDELIVER_AT_MOST + 1)
        )
    ).all()
    queued, rest = found[:REDELIVER_AT_MOST], found[REDELIVER_AT_MOST:]
    for notification_id, _ in queued:
        enqueue(
            session,
            topic=webhooks.TOPIC,
            key=str(notification_id),
            payload={"notification_id": str(notification_id), "subscription_id": str(subscription.id)},
        )
    next_since = rest[0].created_at if rest else None
    await record(
        session,
        actor=user,
        object_type="subscription",
        object_id=subscription.id,
        action="webhook_redelivery_requested",
        changes={"since": since.isoformat(), "queued": len(queued)},
    )
    return len(queued), next_since


async def list_own(session: AsyncSession, *, user: User, page: PageParams) -> tuple[list[Subscription], int]:
    statement = select(Subscription).where(Subscription.user_id == user.id)
    rows, total = await fetch_page(session, statement, page, Subscription.created_at.desc(), Subscription.id)
    return list(rows.scalars()), total


async def _own(session: AsyncSession, user: User, subscription_id: uuid.UUID) -> Subscription:
    return await _owned(session, Subscription, subscription_id, user, what="subscription", zh="订阅不存在。")


async def _own_webhook(session: AsyncSession, user: User, subscription_id: uuid.UUID) -> Subscription:
    """The user's own subscription that has a webhook; one without is 409 `no_webhook`."""
    subscription = await _own(session, user, subscription_id)
    if not subscription.webhook_url:
        en, zh = "This subscription has no webhook.", "该订阅未配置通知地址。"
        raise Conflict(code="no_webhook", message_en=en, message_zh=zh)
    return subscription


async def _owned(
    session: AsyncSession, model: type[Owned], object_id: uuid.UUID, user: User, *, what: str, zh: str
) -> Owned:
    """The user's own row, locked for the change; anyone else's is 404, revealing nothing."""
    found = await session.scalar(
        select(model).where(model.id == object_id, model.user_id == user.id).with_for_update()
    )
    if found is None:
        raise NotFound(code=f"{what}_not_found", message_en=f"No such {what}.", message_zh=zh)
    return found


async def delete(session: AsyncSession, *, user: User, subscription_id: uuid.UUID) -> None:
    subscription = await _own(session, user, subscription_id)
    await session.delete(subscription)
    await record(session, actor=user, object_type="subscription", object_id=subscription_id, action="deleted")


async def notifications(
    session: AsyncSession, *, user: User, page: PageParams, unread_only: bool
) -> tuple[list[Notification], int, int]:
    """A page of the user's notifications, newest first; the total and the unread count."""
    where = [Notification.user_id == user.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total, unread = (
        await session.execute(
            select(func.count(), func.count().filter(Notification.read_at.is_(None))).where(
                Notification.user_id == user.id
            )
        )
    ).one()
    rows = await session.scalars(
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return list(rows.all()), (unread if unread_only else total), unread


async def mark_read(session: AsyncSession, *, user: User, notification_id: uuid.UUID) -> Notification:
    """Idempotent: a notification read twice keeps the time it was first read."""
    notification = await _owned(
        session, Notification, notification_id, user, what="notification", zh="通知不存在。"
    )
    if notification.read_at is None:
        notification.read_at = await session.scalar(select(func.now()))
        await record(
            session, actor=user, object_type="notification", object_id=notification.id, action="read"
        )
    return notification


async def mark_all_read(session: AsyncSession, *, user: User, up_to: datetime | None) -> int:
    """Every unread notification of the user created up to `up_to` (default: now) — the list the
    user saw, not one that arrived since. The number marked."""
    marked = (
        await session.scalars(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                Notification.created_at <= (up_to or func.now()),
            )
            .values(read_at=func.now())
            .returning(Notification.id)
        )
    ).all()
    if marked:
        await record(
            session,
            actor=user,
            object_type="user",
            object_id=user.id,
            action="notifications_read",
            changes={"count": len(marked), "up_to": up_to.isoformat() if up_to else None},
        )
    return len(marked)


async def _saved_search_hits(
    engine: Engine, kind: str, listing_ids: Sequence[str], subscriptions: Sequence[Subscription]
) -> list[tuple[Subscription, str]]:
    """The saved searches (all their words, synonyms included) and which of these listings each
    finds: one query per saved search, whatever the number of listings."""
    asked: list[tuple[Subscription, dict[str, Any]]] = []
    for subscription in subscriptions:
        filters = SearchFilters.model_validate(subscription.filters)
        if kind not in kinds_for(subscription.types, filters):
            continue
        # The query search's `total` counts by: a saved search notifies of what it would count.
        query = every_word_query(
            engine,
            kind,
            keyword_query(normalize(subscription.query)),
            [only(listing_ids), *filter_expression(filters)],
        ) | {"limit": len(listing_ids), "attributesToRetrieve": ["id"]}
        asked.append((subscription, query))
    found: list[tuple[Subscription, str]] = []
    for chunk in _per_request(asked, len(listing_ids)):
        answer = await engine.multi_search({"queries": [query for _, query in chunk]})
        for (subscription, _), result in zip(chunk, answer["results"], strict=True):
            found.extend((subscription, hit["id"]) for hit in result["hits"])
    return found


async def _notify(
    session: AsyncSession, subscription: Subscription, kind: str, listing_id: str, title: str, why: list[str]
) -> None:
    notification_id = uuid.uuid4()
    inserted = await session.scalar(
        insert(Notification)
        .values(
            id=notification_id,
            user_id=subscription.user_id,
            subscription_id=subscription.id,
            listing_kind=kind,
            listing_id=uuid.UUID(listing_id),
            title=title[:200],
            explanation=why,
        )
        .on_conflict_do_nothing()
        .returning(Notification.id)
    )
    if inserted is not None and subscription.webhook_url:
        enqueue(
            session,
            topic=webhooks.TOPIC,
            key=str(notification_id),
            payload={"notification_id": str(notification_id)},
        )


def published_handler(engine: Engine):  # type: ignore[no-untyped-def]
    """`matching.listing_published`: evaluate every active subscription against the new listings,
    each subscription once per kind for the whole batch (an imported catalogue arrives hundreds at
    a time; asking per listing multiplied the requests by their number)."""

    follow_queries = _FollowQueries()

    async def handle(session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
        active = list(
            (
                await session.scalars(
                    select(Subscription)
                    .join(User, User.id == Subscription.user_id)
                    .where(Subscription.active, User.is_active)  # nothing on behalf of a closed account
                )
            ).all()
        )
        if not active:
            return
        searches = [s for s in active if s.kind == SubscriptionKind.search]
        follows = [s for s in active if s.kind == SubscriptionKind.demand and s.demand_id is not None]
        demands = {
            demand.id: demand
            for demand in (
                await session.scalars(
                    select(Demand).where(
                        Demand.id.in_({s.demand_id for s in follows}), Demand.status.in_(FOLLOWED_WHILE)
                    )
                )
            ).all()
        }
        prepared = await follow_queries.refresh(demands.values())
        asked = [(s, demands[s.demand_id], *prepared[s.demand_id]) for s in follows if s.demand_id in demands]
        published: dict[str, dict[uuid.UUID, None]] = {}
        for row in rows:
            published.setdefault(row.payload["kind"], {})[uuid.UUID(row.payload["id"])] = None
        for kind, ids in published.items():
            views = await load_public(session, kind, list(ids))  # those unpublished again since are absent
            titles = {
                str(listing_id): view.get("title") or view.get("name") or ""
                for listing_id, view in views.items()
            }
            if not titles:
                continue
            for subscription, listing_id in await _saved_search_hits(engine, kind, list(titles), searches):
                why = [f"符合保存的搜索：{subscription.query}"]
                await _notify(session, subscription, kind, listing_id, titles[listing_id], why)
            if kind == "demand":
                continue
            for subscription, listing_id, why in await _followed_demands_matched(
                engine, kind, list(titles), asked
            ):
                await _notify(session, subscription, kind, listing_id, titles[listing_id], why)

    return handle


# A match score (app/matching/matches.py) worth a notification. On the dev set's papers (a paper
# as a demand; related = sharing an author keyword) 0.4 passes ~1 in 700 new listings per follow,
# a quarter of them related by that strict measure (docs/search.md, "Matches").
FOLLOW_THRESHOLD = 0.4
# A demand's follow is checked while the demand is being prepared or sought; once it is closed,
# expired or taken down its matches are noise (checked again once revised).
FOLLOWED_WHILE = (ListingStatus.draft, ListingStatus.published)
# A multi-search request carries at most this many queries, and at most HITS_PER_REQUEST possible
# hits (queries × listings asked about): one response holds the matches' texts for explaining.
QUERIES_PER_REQUEST = 100
HITS_PER_REQUEST = 2_000

T = TypeVar("T")


def _per_request(queries: Sequence[T], listings: int) -> Iterable[Sequence[T]]:
    size = max(1, min(QUERIES_PER_REQUEST, HITS_PER_REQUEST // listings))
    for start in range(0, len(queries), size):
        yield queries[start : start + size]


class _FollowQueries:
    """Each followed demand's match query, kept from one batch to the next until the demand changes:
    making it (jieba over the whole text) cost more than asking Meilisearch. The vector is kept as
    its JSON (a quarter of the memory of the list, and nothing to encode again)."""

    def __init__(self) -> None:
        self._by_demand: dict[uuid.UUID, tuple[int, list[str], orjson.Fragment | None]] = {}

    async def refresh(
        self, demands: Iterable[Demand]
    ) -> dict[uuid.UUID, tuple[list[str], orjson.Fragment | None]]:
        kept = {}
        made = 0
        for demand in demands:
            entry = self._by_demand.get(demand.id)
            if entry is None or entry[0] != demand.version:
                made += 1
                if made % 10 == 0:  # ~3 ms each: let the API process's requests through between them
                    await asyncio.sleep(0)
                terms, vector = matching.query_parts(demand)
                entry = (
                    demand.version,
                    terms,
                    None if vector is None else orjson.Fragment(orjson.dumps(vector)),
                )
            kept[demand.id] = entry
        self._by_demand = kept  # demands no longer followed drop out
        return {demand_id: (terms, vector) for demand_id, (_, terms, vector) in kept.items()}


Asked = tuple[Subscription, Demand, list[str], orjson.Fragment | None]  # a follow, its demand, its query


async def _followed_demands_matched(
    engine: Engine, kind: str, listing_ids: Sequence[str], asked: Sequence[Asked]
) -> list[tuple[Subscription, str, list[str]]]:
    """The follows whose demand has one of these listings among its matches (score ≥
    FOLLOW_THRESHOLD), with the explanation — the demand's own match query restricted to these
    listings, for many demands per request (one request per demand made every publish wait on the
    follows' number)."""
    matched: list[tuple[Subscription, str, list[str]]] = []
    for chunk in _per_request(asked, len(listing_ids)):
        queries = [
            matching.counterpart_query(engine, kind, terms, vector, among=listing_ids)
            for _, _, terms, vector in chunk
        ]
        answer = await engine.multi_search({"queries": queries})
        for (subscription, demand, terms, _), result in zip(chunk, answer["results"], strict=True):
            for hit in result["hits"]:
                explained = matching.explain("demand", demand, terms, hit)
                if explained is not None and explained[0] >= FOLLOW_THRESHOLD:
                    matched.append((subscription, hit["id"], explained[1]))
    return matched
