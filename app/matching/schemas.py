"""Search, match, subscription and notification payloads."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field

from app.core.pagination import Page
from app.core.types import ChinaTime, Money, RegionCode, SafeText, Yuan
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import TransferMode
from app.matching.models import WEBHOOK_URL_MAX, NotificationKind, SubscriptionKind

Kind = Literal["achievement", "demand", "expert", "agency"]
SearchOrder = Literal["relevance", "newest", "price_asc", "price_desc"]


class SearchHit(BaseModel):
    type: Kind = Field(description="achievement=科技成果、demand=技术需求、expert=专家、agency=服务机构")
    id: uuid.UUID
    title: str = Field(description="标题（专家、机构为名称）")
    highlight: dict[str, str] = Field(
        description="标题与摘要片段（简体、半角）：HTML 转义后的文本，命中词以 <em>…</em> 标出，"
        "可直接作为 HTML 显示。Title and abstract snippet as HTML: the text escaped, matched words "
        "marked with <em>."
    )
    score: float = Field(description="0–1 的相关度")
    matches_all_words: bool = Field(
        description="是否包含全部搜索词（同义词、繁简、全半角均算）；total 即此项为 true 的信息数，"
        "为 false 的是只包含部分搜索词的相关信息。无搜索词时为 true。"
        "Whether the listing holds every word of the query (synonyms and script variants count); "
        "`total` counts the listings for which it is true, the others share only some of the words."
    )
    field: list[str] = []
    region_code: str | None = None
    maturity: int | None = None
    asking_price: Yuan | None = Field(default=None, description="意向价格（元，两位小数）；空为面议")
    published_at: ChinaTime | None = None


class SearchResult(BaseModel):
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(
        description="各分面取值的命中数：type、field、region_province、maturity、transfer_modes"
    )
    total: int = Field(
        description="包含全部搜索词的信息数（与搜索词顺序无关，分面计数同此），即各页 hits 中 "
        "matches_all_words 为 true 的条数之和；按相关度排列时，hits 还会列出只包含部分搜索词的信息"
        "（matches_all_words 为 false），不计入 total。Listings holding every word (facets count the "
        "same): the hits with `matches_all_words` true over all pages. Ranked by relevance, the hits "
        "also list listings sharing only some of the words (`matches_all_words` false), which `total` "
        "does not count."
    )
    limit: int
    offset: int


class Match(BaseModel):
    type: Kind
    id: uuid.UUID
    title: str
    score: float = Field(description="0–1 的匹配度")
    explanation: list[str] = Field(
        description="匹配理由：共同技术词、同一领域、同一地区、成熟度、价格是否在预算内"
    )


class MatchResult(BaseModel):
    listing: dict[str, Any] = Field(description="被匹配的信息：type、id、title")
    matches: list[Match]


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: TechnologyField | None = None
    region: RegionCode | None = None
    maturity_min: int | None = Field(default=None, ge=1, le=9)
    transfer_mode: TransferMode | None = None
    price_max: Money | None = None


def _fits_the_column(url: AnyHttpUrl) -> AnyHttpUrl:
    if len(str(url)) > WEBHOOK_URL_MAX:
        raise ValueError(f"at most {WEBHOOK_URL_MAX} characters")
    return url


# Checked as stored (normalised, international names in punycode), the column's length.
WebhookUrl = Annotated[AnyHttpUrl, AfterValidator(_fits_the_column)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SubscriptionKind = Field(description="search=保存的搜索、demand=关注本企业的需求")
    # Stored and shown back: no control characters (PostgreSQL refuses NUL) and no markup.
    name: SafeText = Field(default="", max_length=100)
    query: SafeText = Field(default="", max_length=200, description="搜索词（kind=search）")
    types: list[Kind] = Field(default_factory=list, description="关注的信息类型；空表示全部")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    demand_id: uuid.UUID | None = Field(default=None, description="关注的需求（kind=demand）")
    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="有新匹配时 POST 通知到此地址（须为公网地址；按 Standard Webhooks 签名；失败重试约一天）",
    )


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: SubscriptionKind
    name: str
    query: str
    types: list[str]
    filters: dict[str, Any]
    demand_id: uuid.UUID | None
    webhook_url: str | None
    webhook_failing_since: ChinaTime | None = Field(
        description="推送失败的最早一条通知的产生时间（自此起的通知未送达）；成功一次即清空"
    )
    webhook_last_error: str | None = Field(description="最近一次推送失败的原因")
    active: bool
    created_at: ChinaTime


class SubscriptionUpdate(BaseModel):
    """Only the fields sent change; `webhook_url: null` removes the webhook."""

    model_config = ConfigDict(extra="forbid")

    name: SafeText | None = Field(default=None, max_length=100)
    active: bool | None = Field(default=None, description="false=暂停：不再生成通知，直到重新启用")
    webhook_url: WebhookUrl | None = Field(default=None, description="新的通知地址；null 表示不再推送")


class SubscriptionWithSecret(SubscriptionRead):
    webhook_secret: str | None = Field(
        description="验证通知签名（webhook-signature）的密钥：只在创建订阅、或为原先没有通知地址的订阅配置地址时"
        "返回这一次；其余为 null（原密钥不变）。丢失可重新生成"
    )


class WebhookSecret(BaseModel):
    webhook_secret: str = Field(description="新的签名密钥；旧密钥随即失效")


class WebhookRedelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime | None = Field(
        default=None,
        description="重新投递此时刻（含）之后产生的通知；缺省为 webhook_failing_since",
    )


class WebhookRedeliveryQueued(BaseModel):
    queued: int = Field(description="本次重新排队投递的通知数（每次至多 1000 条，最早的在前）")
    next_since: ChinaTime | None = Field(
        description="还有更多时，以此作为 since 再次请求；已全部排队时为 null"
    )


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: NotificationKind = Field(
        description="通知类别：" + "、".join(f"{k.value}={k.label}" for k in NotificationKind)
    )
    subscription_id: uuid.UUID | None = Field(description="产生该通知的订阅（仅 kind=match）")
    listing_kind: str = Field(
        description="所涉成果或需求：achievement / demand；"
        "交易通知无所涉成果时为 deal（交易项目）或 auction（竞价）"
    )
    listing_id: uuid.UUID
    title: str
    explanation: list[str]
    details: dict[str, Any] = Field(
        description="合作意向类通知的详情：interest_id；accepted 另有 deal_id，declined 另有 reason、"
        "reason_label、note，received 另有 organization_name，unanswered 另有 waiting_since、days；"
        "交易通知（公示、挂牌、竞价、交易凭证）带有 deal_id "
        "及相应的 publicity_id、announcement_id 或 auction_id"
    )
    created_at: ChinaTime
    read_at: ChinaTime | None


class NotificationPage(Page[NotificationRead]):
    unread: int = Field(description="未读通知数（不受分页与 unread 筛选影响）")


class MarkAllRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: AwareDatetime | None = Field(
        default=None,
        description="只标记此时刻（含）之前收到的通知，通常取用户所见列表中最新一条的 created_at；缺省为现在",
    )


class MarkedRead(BaseModel):
    marked: int = Field(description="本次标为已读的通知数")
