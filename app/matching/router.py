"""`/api/v1/search`, `/api/v1/{demands,achievements}/{id}/matches`, `/api/v1/subscriptions`,
`/api/v1/notifications`. Routers parse and authorise; the modules beside them hold the rules."""

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.accounts.auth import CurrentUser, OptionalUser
from app.core.db import SessionDep
from app.core.errors import FieldError, ValidationFailed, problem_responses
from app.core.pagination import Page, PageDep
from app.core.types import RegionCode
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import TransferMode
from app.matching import matches as matching
from app.matching import search as searching
from app.matching import subscriptions
from app.matching.models import Subscription
from app.matching.schemas import (
    MarkAllRead,
    MarkedRead,
    MatchResult,
    NotificationPage,
    NotificationRead,
    SearchFilters,
    SearchOrder,
    SearchResult,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SubscriptionWithSecret,
    WebhookRedelivery,
    WebhookRedeliveryQueued,
    WebhookSecret,
)
from search.engine import Engine

router = APIRouter(tags=["search"])


def _engine(request: Request) -> Engine:
    return request.app.state.search


def _types(raw: str | None, allowed: tuple[str, ...]) -> list[str]:
    if not raw:
        return []
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [part for part in wanted if part not in allowed]
    if bad:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "types",
                    "invalid",
                    f"unknown types: {', '.join(bad)}; allowed: {', '.join(allowed)}",
                    f"未知类型：{'、'.join(bad)}；可选：{'、'.join(allowed)}",
                )
            ]
        )
    return wanted


@router.get(
    "/search",
    response_model=SearchResult,
    responses=problem_responses(422, 503),
    summary="Search every kind of listing · 搜索",
)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="搜索词；简体、繁体、英文缩写、全角半角均可")] = "",
    types: Annotated[
        str | None, Query(description="逗号分隔：achievement,demand,expert,agency；默认全部")
    ] = None,
    field: Annotated[TechnologyField | None, Query(description="技术领域")] = None,
    region: Annotated[RegionCode | None, Query(description="行政区划代码；省、市代码包含下辖地区")] = None,
    maturity_min: Annotated[int | None, Query(ge=1, le=9, description="最低技术成熟度（仅科技成果）")] = None,
    transfer_mode: Annotated[TransferMode | None, Query(description="转化方式（仅科技成果）")] = None,
    price_max: Annotated[
        Decimal | None,
        # The constraints of `SearchFilters.price_max`, so a bad amount is a 422 here, not a 500 there.
        Query(
            ge=0,
            lt=Decimal("1e14"),
            max_digits=16,
            decimal_places=2,
            description="最高报价，元（仅科技成果）",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="条数")] = 20,
    offset: Annotated[int, Query(ge=0, le=900, description="跳过的条数")] = 0,
    sort: Annotated[
        SearchOrder | None,
        Query(
            description="排序：relevance=相关度（有搜索词时默认）、newest=最新发布（无搜索词时默认）、"
            "price_asc / price_desc=报价从低到高 / 从高到低（仅科技成果，面议的排在最后）"
        ),
    ] = None,
) -> SearchResult:
    """搜索科技成果、技术需求、专家和服务机构，按相关度排在一个列表中，带分面计数与高亮片段。

    Search all four kinds in one ranked list. Traditional and simplified script match each other;
    field synonyms (人工智能 / AI / 人工智慧 …) apply. `maturity_min`, `transfer_mode` and
    `price_max` concern achievements only, so setting one limits the result to achievements; so do
    the price orders. An order other than relevance lists the listings containing every word of the
    query, strictly in that order. Only published listings are indexed. 503 with `Retry-After` when
    the search engine is down.

    `total` is the number of listings holding every word of the query (in any order; synonyms and
    script variants count), and each hit says whether it is one of them (`matches_all_words`):
    ranked by relevance, the hits go on with listings sharing only some of the words, marked false
    and not counted — show "N 条结果" over the true ones and the rest as related. Highlights are
    HTML: the listing's text escaped (a `<br>` or `p<q` it holds shows as typed), matched words in
    `<em>`. Prices are written with two decimals, as in the listing itself."""
    filters = SearchFilters(
        field=field,
        region=region,
        maturity_min=maturity_min,
        transfer_mode=transfer_mode,
        price_max=price_max,
    )
    return await searching.search(
        _engine(request),
        q=q,
        types=_types(types, ("achievement", "demand", "expert", "agency")),
        filters=filters,
        limit=limit,
        offset=offset,
        sort=sort,
    )


def _matches_route(kind: str, path: str, counterparts: tuple[str, ...], label: str) -> None:
    @router.get(
        f"/{path}/{{listing_id}}/matches",
        response_model=MatchResult,
        responses=problem_responses(404, 422, 503),
        name=f"{kind}_matches",
        summary=f"Matches for {'an' if kind[0] in 'aeiou' else 'a'} {kind} · {label}匹配推荐",
    )
    async def route(
        request: Request,
        session: SessionDep,
        user: OptionalUser,
        listing_id: uuid.UUID,
        types: Annotated[
            str | None, Query(description=f"逗号分隔：{','.join(counterparts)}；默认全部")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> MatchResult:
        return await matching.matches(
            session,
            _engine(request),
            kind=kind,
            listing_id=listing_id,
            user=user,
            types=_types(types, counterparts),
            limit=limit,
        )

    route.__doc__ = (
        f"为{label}推荐匹配的{'、'.join(counterparts)}，每条带匹配度与理由（共同技术词、同一领域、同一地区、"
        "成熟度、报价是否在预算内）。\n\nThe matches of a listing are shown to whoever may read the listing "
        "itself: of a published one to everyone, of a draft (or one no longer published) to its owning "
        "organization and administrators only; others get 404 `listing_not_found`, as for the listing."
    )


_matches_route("demand", "demands", ("achievement", "expert", "agency"), "技术需求")
_matches_route("achievement", "achievements", ("demand", "expert", "agency"), "科技成果")


@router.post(
    "/subscriptions",
    response_model=SubscriptionWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 409, 422),
    tags=["subscriptions"],
    summary="Subscribe to a search or a demand · 新建订阅",
)
async def create_subscription(
    request: Request, session: SessionDep, user: CurrentUser, data: SubscriptionCreate
) -> SubscriptionWithSecret:
    """订阅：保存一个搜索（kind=search），或关注本企业的需求（kind=demand）。新发布的信息与之匹配时生成通知，
    配置了 `webhook_url` 的还会 POST 到该地址（失败自动重试）。同一需求只能关注一次：再次关注答 409
    `already_following`，带已有订阅的 `subscription_id`。
    需求关闭、过期或被下架后不再为其推送（重新修改为草稿后恢复）；账号停用后其订阅均不再推送。

    通知按 Standard Webhooks 签名：`webhook-id`（通知 id，重试时不变，可据此去重）、`webhook-timestamp`、
    `webhook-signature`（以 `webhook_secret` 作 HMAC-SHA256），可用 standardwebhooks 等库验证。
    `webhook_url` 须为公网地址，否则答 422 `not_public_address`（主机名无法解析时 `unresolvable`）。"""
    subscription = await subscriptions.create(
        session, user=user, data=data, settings=request.app.state.settings
    )
    return _with_secret(subscription, subscription.webhook_secret)


@router.get(
    "/subscriptions",
    response_model=Page[SubscriptionRead],
    responses=problem_responses(401),
    tags=["subscriptions"],
    summary="List my subscriptions · 我的订阅",
)
async def list_subscriptions(session: SessionDep, user: CurrentUser, page: PageDep) -> Page[SubscriptionRead]:
    """我的订阅，最新在前，分页（`{items, total, limit, offset}`）。My subscriptions, newest first, paged."""
    rows, total = await subscriptions.list_own(session, user=user, page=page)
    return Page.of([SubscriptionRead.model_validate(s) for s in rows], total, page)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404),
    tags=["subscriptions"],
    summary="Delete a subscription · 取消订阅",
)
async def delete_subscription(session: SessionDep, user: CurrentUser, subscription_id: uuid.UUID) -> None:
    """取消订阅。"""
    await subscriptions.delete(session, user=user, subscription_id=subscription_id)


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionWithSecret,
    responses=problem_responses(401, 404, 422),
    tags=["subscriptions"],
    summary="Edit a subscription · 修改订阅",
)
async def update_subscription(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    subscription_id: uuid.UUID,
    data: SubscriptionUpdate,
) -> SubscriptionWithSecret:
    """改名、暂停（`active: false`）或恢复、更换或取消通知地址（`webhook_url: null`）。只改所发送的字段。
    原先没有通知地址而新配置时，返回新的 `webhook_secret`（仅此一次）；更换地址保留原密钥。"""
    subscription, new_secret = await subscriptions.edit(
        session,
        user=user,
        subscription_id=subscription_id,
        data=data,
        settings=request.app.state.settings,
    )
    return _with_secret(subscription, new_secret)


def _with_secret(subscription: Subscription, secret: str | None) -> SubscriptionWithSecret:
    """The secret is shown only when it was just made, never read back later."""
    return SubscriptionWithSecret(
        **SubscriptionRead.model_validate(subscription).model_dump(), webhook_secret=secret
    )


@router.post(
    "/subscriptions/{subscription_id}/webhook-secret",
    response_model=WebhookSecret,
    responses=problem_responses(401, 404, 409),
    tags=["subscriptions"],
    summary="Rotate the webhook secret · 重新生成通知签名密钥",
)
async def rotate_webhook_secret(
    session: SessionDep, user: CurrentUser, subscription_id: uuid.UUID
) -> WebhookSecret:
    """重新生成通知签名密钥（密钥泄露或遗失时）；旧密钥立即失效。未配置通知地址的订阅答 409 `no_webhook`。"""
    secret = await subscriptions.rotate_webhook_secret(session, user=user, subscription_id=subscription_id)
    return WebhookSecret(webhook_secret=secret)


@router.post(
    "/subscriptions/{subscription_id}/webhook-redeliveries",
    response_model=WebhookRedeliveryQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 404, 409, 422),
    tags=["subscriptions"],
    summary="Redeliver webhook notifications · 重新推送通知",
)
async def redeliver_webhook(
    session: SessionDep, user: CurrentUser, subscription_id: uuid.UUID, body: WebhookRedelivery | None = None
) -> WebhookRedeliveryQueued:
    """重新推送：接收端停机超过重试期限后，把 `since`（缺省为 `webhook_failing_since`，即最早一条未送达
    通知的产生时间）起的通知重新排队推送，最早的在前，每次至多 1000 条（还有更多时按 `next_since`
    再请求）。每条沿用原通知 id 作 `webhook-id`，接收端可据此去重。未配置通知地址的订阅答 409
    `no_webhook`。"""
    queued, next_since = await subscriptions.redeliver(
        session, user=user, subscription_id=subscription_id, since=body.since if body else None
    )
    return WebhookRedeliveryQueued(queued=queued, next_since=next_since)


@router.get(
    "/notifications",
    response_model=NotificationPage,
    responses=problem_responses(401),
    tags=["subscriptions"],
    summary="List my notifications · 我的通知",
)
async def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    unread: Annotated[bool, Query(description="只列未读通知")] = False,
) -> NotificationPage:
    """我的通知，最新在前；`unread` 为未读数。`kind` 区分：订阅匹配到的新发布信息（match，带
    `subscription_id`），以及合作意向的每一步（interest_received / interest_accepted /
    interest_declined（`details` 带原因与说明）/ interest_withdrawn / interest_unanswered，
    `details.interest_id` 指向意向）。用户配置了通知地址的订阅同样收到合作意向的推送
    （`interest.received` 等，同一地址只推一次）。"""
    items, total, unread_count = await subscriptions.notifications(
        session, user=user, page=page, unread_only=unread
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(n) for n in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
        unread=unread_count,
    )


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationRead,
    responses=problem_responses(401, 404),
    tags=["subscriptions"],
    summary="Mark a notification read · 标为已读",
)
async def mark_notification_read(
    session: SessionDep, user: CurrentUser, notification_id: uuid.UUID
) -> NotificationRead:
    """标为已读（重复标记不改变首次阅读时间）。"""
    return NotificationRead.model_validate(
        await subscriptions.mark_read(session, user=user, notification_id=notification_id)
    )


@router.post(
    "/notifications/read",
    response_model=MarkedRead,
    responses=problem_responses(401, 422),
    tags=["subscriptions"],
    summary="Mark all notifications read · 全部标为已读",
)
async def mark_all_notifications_read(
    session: SessionDep, user: CurrentUser, body: MarkAllRead | None = None
) -> MarkedRead:
    """全部标为已读：`up_to` 之前（含）收到的未读通知，之后新到的仍为未读。"""
    marked = await subscriptions.mark_all_read(session, user=user, up_to=body.up_to if body else None)
    return MarkedRead(marked=marked)
