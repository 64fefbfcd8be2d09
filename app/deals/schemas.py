"""What the deal routes read and answer."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.core.types import ChinaTime, Money, SafeText, Yuan
from app.deals.vocabulary import DealStage
from app.listings.vocabulary import TransferMode


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


# Stripped before the length is checked: `StringConstraints(strip_whitespace=True, min_length=1)`
# on SafeText checks the length first and strips after, so "  " would pass as "".
Title = Annotated[SafeText, BeforeValidator(_strip), StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[SafeText, BeforeValidator(_strip), StringConstraints(min_length=1, max_length=500)]
Body = Annotated[SafeText, BeforeValidator(_strip), StringConstraints(min_length=1, max_length=10_000)]
# A fraction of the agreed price: 0.03 = 3 %; 0 to 1 (0–100 %) inclusive.
CommissionRate = Annotated[
    Decimal,
    Field(
        ge=0, le=1, max_digits=7, decimal_places=6, description="佣金比例：成交价的分数，0.03 = 3 %（0–1）"
    ),
]
STAGE = DealStage.describe("阶段")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DealCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "钙钛矿电池封装工艺许可",
                    "achievement_id": "04994d59-3886-47ea-9343-2694b776f56b",
                    "buyer_organization_id": "b97a3b1b-2e63-44a5-9944-54d6345933b0",
                }
            ]
        }
    )

    title: Title
    seller_organization_id: uuid.UUID | None = Field(
        default=None, description="卖方；省略时为成果的所有单位 / defaults to the achievement's owner"
    )
    buyer_organization_id: uuid.UUID | None = Field(
        default=None, description="买方；省略时为需求的所有单位 / defaults to the demand's owner"
    )
    achievement_id: uuid.UUID | None = None
    demand_id: uuid.UUID | None = None


class DealUpdate(Input):
    """Only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"payment_terms": "签约后 30 日内一次付清"}]})

    title: Title | None = None
    agreed_price: Money | None = None
    transfer_mode: TransferMode | None = None
    payment_terms: Annotated[SafeText, StringConstraints(max_length=5_000)] | None = None
    related_party: bool | None = Field(default=None, description="关联交易（仅管理员）/ administrators only")
    seller_organization_id: uuid.UUID | None = None
    buyer_organization_id: uuid.UUID | None = None


class StageMove(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to": "agreed", "agreed_price": "1000000.00", "transfer_mode": "license_ordinary"},
                {"to": "on_hold", "reason": "买方等待董事会审批"},
            ]
        }
    )

    to: DealStage = Field(description=STAGE)
    reason: Reason | None = Field(
        default=None, description="on_hold / lost 必填 / required for on_hold and lost"
    )
    agreed_price: Money | None = Field(
        default=None, description="to = agreed 时可一并记录 / with to = agreed"
    )
    transfer_mode: TransferMode | None = Field(default=None, description="to = agreed 时可一并记录")


class MandateIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "engaged_by_organization_id": "5ec1eaeb-1573-41f2-ae4a-50fc4c4057b7",
                    "technology_manager_id": "6924191c-85b6-4db9-93b5-93e3791c1e54",
                    "commission_rate": "0.05",
                    "starts_on": "2026-12-01",
                    "ends_on": "2027-11-30",
                }
            ]
        }
    )

    engaged_by_organization_id: uuid.UUID = Field(description="委托方：交易的卖方或买方")
    technology_manager_id: uuid.UUID = Field(description="受托的技术经理人（用户）")
    commission_rate: CommissionRate | None = None
    commission_fixed: Money | None = Field(default=None, description="固定佣金（元），不超过成交价")
    starts_on: date
    ends_on: date | None = None


class MandateRead(BaseModel):
    id: uuid.UUID
    engaged_by_organization_id: uuid.UUID
    technology_manager_id: uuid.UUID
    agency_organization_id: uuid.UUID
    commission_rate: Decimal | None = Field(
        description="fraction; null when the commission is fixed, or hidden from the counterpart"
    )
    commission_fixed: Yuan | None = Field(description="null when the commission is a rate, or hidden")
    starts_on: date
    ends_on: date | None
    in_force: bool
    created_at: ChinaTime


class DealRead(BaseModel):
    id: uuid.UUID
    version: int
    title: str
    stage: DealStage = Field(description=STAGE)
    stage_label: str
    stage_changed_at: ChinaTime
    held_from_stage: DealStage | None
    stage_reason: str | None
    seller_organization_id: uuid.UUID | None
    buyer_organization_id: uuid.UUID | None
    achievement_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    broker_user_id: uuid.UUID | None
    broker_agency_id: uuid.UUID | None
    transfer_mode: str | None
    agreed_price: Yuan | None
    payment_terms: str
    related_party: bool
    contract_application_id: uuid.UUID | None
    registration_number: str | None
    registered_on: date | None
    registered_contract_amount: Yuan | None
    registered_technology_amount: Yuan | None
    created_at: ChinaTime
    updated_at: ChinaTime
    mandate: MandateRead | None = Field(description="the mandate in force (委托), if any")
    sides: list[str] = Field(description="the capacities the caller holds: seller, buyer, broker, admin")
    allowed_moves: list[DealStage] = Field(description="the stages the caller may move the deal to now")


class StageEventRead(BaseModel):
    id: int
    from_stage: DealStage | None
    to_stage: DealStage
    actor_user_id: uuid.UUID | None = Field(description="null when the service moved it")
    reason: str | None
    created_at: ChinaTime


class NoteIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "双方已确认许可范围与地域。"}]})

    body: Body


class NoteRead(BaseModel):
    id: uuid.UUID
    deal_id: uuid.UUID
    author_id: uuid.UUID | None
    body: str
    created_at: ChinaTime


class TaskIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "寄送合同原件", "due_on": "2026-12-31"}]}
    )

    title: Title
    due_on: date = Field(description="到期日（中国时间）/ due date, counted in Asia/Shanghai")
    assignee_id: uuid.UUID | None = Field(
        default=None,
        description="负责人：交易的一方成员、经理人或管理员；默认为经理人 / defaults to the broker",
    )


class TaskRead(BaseModel):
    id: uuid.UUID
    deal_id: uuid.UUID
    title: str
    due_on: date
    assignee_id: uuid.UUID | None
    done_at: ChinaTime | None
    created_by_id: uuid.UUID | None
    created_at: ChinaTime


class OverdueTaskRead(TaskRead):
    deal_title: str
    days_overdue: int
