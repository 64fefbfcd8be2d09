"""What the auction routes read and answer. Amounts are strings with two decimals (`Yuan`), times
are shown in China's time (`ChinaTime`)."""

import uuid
from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.core.types import ChinaTime, Money, Yuan
from app.deals.schemas import Reason, Title
from app.listings.vocabulary import TransferMode
from app.trading.vocabulary import AuctionStatus, DepositStatus

STATUS = AuctionStatus.describe("竞价状态")
DEPOSIT = DepositStatus.describe("保证金状态")
Positive = Annotated[Money, Field(gt=0)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuctionCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "deal_id": "04994d59-3886-47ea-9343-2694b776f56b",
                    "title": "一种高安全性锂电池隔膜的制备方法 专利权转让",
                    "transfer_mode": "transfer",
                    "opening_price": "500000.00",
                    "increment": "10000.00",
                    "reserve_price": "600000.00",
                    "deposit_amount": "50000.00",
                    "starts_at": "2030-01-07T09:00:00+08:00",
                    "ends_at": "2030-01-07T11:00:00+08:00",
                }
            ]
        }
    )

    deal_id: uuid.UUID
    title: Title
    transfer_mode: TransferMode
    opening_price: Positive = Field(description="起拍价（元）")
    increment: Positive = Field(description="加价幅度（元）")
    reserve_price: Positive | None = Field(default=None, description="保留价（元，保密；不低于起拍价）")
    deposit_amount: Money = Field(description="保证金（元），起拍价的 auction_deposit_min_ratio–max_ratio")
    # With an offset: a time without one names no instant.
    starts_at: AwareDatetime = Field(description="开始时间，须带时区（不早于现在，以服务器时钟为准）")
    ends_at: AwareDatetime = Field(description="结束时间，须带时区（晚于开始时间）")


class BidderCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"organization_id": "b97a3b1b-2e63-44a5-9944-54d6345933b0"}]}
    )

    organization_id: uuid.UUID = Field(description="资格确认的竞买单位")


class BidIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": "510000.00"}]})

    amount: Positive = Field(description="出价（元）：起拍价加整数倍加价幅度，且不低于当前最高价加一个幅度")


class Cancellation(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "卖方撤回转让"}]})

    reason: Reason


class BidRead(BaseModel):
    """An accepted bid (the answer to a bid, and its retries with the same Idempotency-Key)."""

    sequence: int = Field(description="本场第几次出价（1, 2, 3 …），即实时事件的 id")
    amount: Yuan
    bidder_code: str = Field(description="竞买号")
    placed_at: ChinaTime
    ends_at: ChinaTime = Field(description="此次出价后的结束时间")
    extended: bool = Field(description="此次出价是否使结束时间延后（延时竞价）")


class BidEntry(BaseModel):
    """One line of the bid history."""

    sequence: int
    amount: Yuan
    bidder_code: str
    placed_at: ChinaTime
    ends_at: ChinaTime = Field(description="此次出价后的结束时间")


class BidderRead(BaseModel):
    """A bidder as the one asking may see it: the organization only to the seller side and
    administrators (and, after the close, the winner to the parties)."""

    id: uuid.UUID
    code: str
    organization_id: uuid.UUID | None = None
    organization_name: str | None = None
    deposit_status: DepositStatus | None = Field(default=None, description=DEPOSIT)


class AuctionRead(BaseModel):
    id: uuid.UUID
    deal_id: uuid.UUID | None = Field(description="交易项目（仅卖方、经纪人、竞得方和管理员可见）")
    announcement_id: uuid.UUID | None
    achievement_id: uuid.UUID | None
    seller_organization_id: uuid.UUID
    title: str
    transfer_mode: TransferMode
    opening_price: Yuan
    increment: Yuan
    reserve_price: Yuan | None = Field(description="保留价：仅卖方、经纪人与管理员可见")
    reserve_met: bool | None = Field(description="成交价是否达到保留价：结束后公布（无保留价为 true）")
    deposit_amount: Yuan
    starts_at: ChinaTime
    scheduled_ends_at: ChinaTime = Field(description="公告的结束时间")
    ends_at: ChinaTime = Field(description="当前结束时间（延时竞价后延）")
    status: AuctionStatus = Field(description=STATUS)
    status_label: str
    best_amount: Yuan | None
    best_bidder_code: str | None
    min_next_bid: Yuan | None = Field(description="下一次有效出价的最低金额（竞价结束后为空）")
    bid_count: int
    extensions: int
    closed_at: ChinaTime | None
    sign_by: date | None = Field(description="竞得方须在此日前签订合同，否则保证金没收")
    winner: BidderRead | None = Field(description="竞得方：结束后向当事方公开单位，其他人仅见竞买号")
    bidders: list[BidderRead] = Field(
        description="竞买人：卖方与管理员可见单位与保证金状态，其他人仅见竞买号"
    )
    my_bidder: BidderRead | None = Field(description="调用者所在单位的竞买资格（如有）")
    version: int
