"""What the listing routes (挂牌) read and answer."""

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.types import ChinaTime, Money, SafeText, Yuan
from app.deals.schemas import Reason, Title
from app.listings.vocabulary import TransferMode
from app.trading.vocabulary import AnnouncementStatus, IntentionStatus

Text = Annotated[SafeText, StringConstraints(max_length=5_000)]
Positive = Annotated[Money, Field(gt=0)]
ANNOUNCEMENT_STATUS = AnnouncementStatus.describe("挂牌状态")
INTENTION_STATUS = IntentionStatus.describe("意向状态")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnnouncementTerms(Input):
    """The announcement's content: frozen while it runs, a change restarts the period."""

    title: Title
    floor_price: Positive = Field(description="挂牌底价（元）")
    transfer_mode: TransferMode = Field(description="转化方式：受让方取得的权利")
    conditions: Text = Field(default="", description="交易条件")
    buyer_qualifications: Text = Field(default="", description="受让方资格条件")
    deposit_amount: Money = Field(description="交易保证金（元），须在竞价保证金比例范围内")
    period_working_days: int = Field(ge=1, le=250, description="信息披露期（工作日），不少于设定的最短期限")
    extension_working_days: int | None = Field(
        default=None, ge=1, le=250, description="无人受让时每次延长的工作日；省略则期满即终结"
    )
    max_extensions: int = Field(default=0, ge=0, le=12, description="最多延长次数")
    after_period: Text = Field(default="", description="期满后的安排（公告原文）")
    auction_increment: Positive = Field(description="两家以上合格受让方时网络竞价的加价幅度（元）")


class AnnouncementCreate(AnnouncementTerms):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "deal_id": "3f0f9a4e-6a8c-4f62-9d38-1b2f0a7c5e11",
                    "title": "一种高安全性锂电池隔膜的制备方法 专利权转让",
                    "floor_price": "800000.00",
                    "transfer_mode": "transfer",
                    "conditions": "受让方须在签约后 30 日内一次付清价款。",
                    "buyer_qualifications": "依法设立的企业法人，具备锂电池隔膜生产能力。",
                    "deposit_amount": "80000.00",
                    "period_working_days": 20,
                    "extension_working_days": 5,
                    "max_extensions": 2,
                    "after_period": "期满一家合格受让方协议成交；两家以上网络竞价；无人受让延长挂牌。",
                    "auction_increment": "10000.00",
                }
            ]
        }
    )

    deal_id: uuid.UUID = Field(description="洽谈定价阶段、买方未定的交易项目")


class AnnouncementUpdate(Input):
    """Only the fields sent change; any change is a new revision that restarts the period."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"floor_price": "750000.00"}]})

    title: Title | None = None
    floor_price: Positive | None = None
    transfer_mode: TransferMode | None = None
    conditions: Text | None = None
    buyer_qualifications: Text | None = None
    deposit_amount: Money | None = None
    period_working_days: int | None = Field(default=None, ge=1, le=250)
    extension_working_days: int | None = Field(default=None, ge=1, le=250)
    max_extensions: int | None = Field(default=None, ge=0, le=12)
    after_period: Text | None = None
    auction_increment: Positive | None = None


class Withdrawal(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "成果权属需重新确认"}]})

    reason: Reason


class IntentionCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"offer_price": "820000.00", "note": "拟用于本公司隔膜产线"}]}
    )

    offer_price: Positive = Field(description="报价（元），不低于挂牌底价")
    note: Text = ""


class IntentionDecision(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"decision": "qualify"}, {"decision": "reject", "reason": "不具备生产能力"}]
        }
    )

    decision: Literal["qualify", "reject"]
    reason: Reason | None = Field(default=None, description="reject 时必填")


class IntentionRead(BaseModel):
    id: uuid.UUID
    announcement_id: uuid.UUID
    buyer_organization_id: uuid.UUID
    buyer_organization_name: str
    offer_price: Yuan
    note: str
    status: IntentionStatus = Field(description=INTENTION_STATUS)
    status_label: str
    answer_due_on: date = Field(description="卖方答复期限（工作日计）")
    decided_at: ChinaTime | None
    rejection_reason: str | None
    created_at: ChinaTime


class AnnouncementRead(BaseModel):
    id: uuid.UUID
    version: int
    revision: int = Field(description="内容修订次数：每次修改内容即重新起算披露期")
    deal_id: uuid.UUID
    achievement_id: uuid.UUID
    seller_organization_id: uuid.UUID
    seller_organization_name: str
    title: str
    floor_price: Yuan
    transfer_mode: TransferMode
    conditions: str
    buyer_qualifications: str
    deposit_amount: Yuan
    period_working_days: int
    extension_working_days: int | None
    max_extensions: int
    extensions_used: int
    after_period: str
    auction_increment: Yuan | None
    period_starts_on: date = Field(description="公告日；披露期自其后第一个工作日起算")
    period_ends_on: date = Field(description="披露期最后一个工作日（中国时间当日结束）")
    ends_at: ChinaTime
    status: AnnouncementStatus = Field(description=ANNOUNCEMENT_STATUS)
    status_label: str
    closed_at: ChinaTime | None
    created_at: ChinaTime
    updated_at: ChinaTime
    intentions: list[IntentionRead] | None = Field(
        description="卖方、其技术经理人和管理员：全部意向；受让方成员：本单位的意向；匿名：null"
    )
