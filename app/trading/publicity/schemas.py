"""What the pricing publicity routes read and answer. The public answer carries the achievement's
name, the price, the period and the status — never the parties' names or contacts."""

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import ChinaTime, Yuan, safe_text
from app.trading.vocabulary import ObjectionStatus, PublicityStatus

Terms = Annotated[str, safe_text(max_length=2000)]
Note = Annotated[str, safe_text(max_length=2000)]


class PublicityCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"terms": "一次性支付；独占许可，许可期限十年。"}]},
    )

    terms: Terms = Field(default="", description="随价格公示的条件（付款方式、许可范围等），可省略")


class PublicityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    deal_id: uuid.UUID
    achievement_id: uuid.UUID | None
    achievement_name: str
    proposed_price: Yuan
    terms: str
    period_days: int = Field(description="公示期（自然日）")
    starts_at: ChinaTime
    ends_at: ChinaTime = Field(
        description="公示期届满时刻（最后一日 24:00，北京时间）；异议处理中时为暂停前的届满时刻"
    )
    status: PublicityStatus = Field(description=PublicityStatus.describe("状态"))
    status_label: str
    suspended_at: ChinaTime | None
    remaining_seconds: int | None = Field(description="暂停时剩余的公示时长（秒）；异议驳回后自驳回时起续算")
    completed_at: ChinaTime | None


class ObjectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    publicity_id: uuid.UUID
    reason: str
    document_name: str | None
    document_content_type: str | None
    status: ObjectionStatus = Field(description=ObjectionStatus.describe("状态"))
    created_at: ChinaTime
    decided_at: ChinaTime | None
    decision_note: str | None


class Decision(StrEnum):
    uphold = "uphold"
    dismiss = "dismiss"


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"decision": "dismiss", "note": "异议理由不成立。"}]}
    )

    decision: Decision = Field(description="uphold=异议成立（项目退回洽谈）、dismiss=异议不成立（公示继续）")
    note: Note = Field(default="", description="处理意见，告知异议人")


class DecisionRead(BaseModel):
    objection: ObjectionRead
    publicity: PublicityRead
