"""Payloads of expressions of interest (意向) and the owner's answer."""

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.types import ChinaTime, Money, SafeText, Yuan
from app.deals.vocabulary import DeclineReason, InterestStatus


class InterestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "intended_use": "用于我司光伏组件产线升级",
                    "budget_min": "800000.00",
                    "budget_max": "1500000.00",
                    "timeline": "2027 年上半年完成中试",
                    "questions": "能否普通许可给我司使用？",
                }
            ]
        },
    )

    intended_use: SafeText = Field(
        min_length=1, max_length=2000, description="拟用途：打算如何使用该成果或如何满足该需求"
    )
    budget_min: Money | None = Field(default=None, description="预算下限（元）")
    budget_max: Money | None = Field(default=None, description="预算上限（元），不低于下限")
    timeline: SafeText = Field(default="", max_length=200, description="时间安排，如“2027 年上半年完成中试”")
    questions: SafeText = Field(default="", max_length=2000, description="想请对方回答的问题")
    on_behalf_of_organization_id: uuid.UUID | None = Field(
        default=None,
        description="技术经理人代客户提交时，客户（已认证机构）的 id；"
        "意向记在客户名下，并记录代办的技术经理人",
    )


class InterestDecline(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "price", "note": "意向价格与预算差距较大，欢迎再议。"}]},
    )

    reason: DeclineReason = Field(description=DeclineReason.describe("婉拒原因（意向方总能看到）"))
    note: SafeText = Field(default="", max_length=1000, description="给意向方的说明")


class ContactPerson(BaseModel):
    name: str
    email: str
    organization_name: str


class InterestContacts(BaseModel):
    """Released to both sides once the owner accepted."""

    owner_organization_name: str
    listing_contacts: list[dict[str, Any]] = Field(
        description="成果（需求）所列联系人 [{name, phone, email}]"
    )
    interested: ContactPerson | None = Field(description="提交意向的人（已停用的账号为 null）")
    broker: ContactPerson | None = Field(description="代客户提交意向的技术经理人；客户自己提交时为 null")


class InterestRead(BaseModel):
    id: uuid.UUID
    listing_kind: str = Field(description="achievement 或 demand")
    listing_id: uuid.UUID
    listing_title: str
    owner_organization_id: uuid.UUID | None = Field(
        description="成果（需求）所属机构；保密需求在接受前对意向方隐藏（null）"
    )
    owner_organization_name: str | None
    organization_id: uuid.UUID = Field(description="意向方机构（技术经理人代办时为客户）")
    organization_name: str
    filed_by_broker: bool = Field(description="是否由技术经理人代客户提交")
    intended_use: str
    budget_min: Yuan | None
    budget_max: Yuan | None
    timeline: str
    questions: str
    status: InterestStatus = Field(description=InterestStatus.describe("状态"))
    status_label: str
    decline_reason: DeclineReason | None
    decline_reason_label: str | None
    decline_note: str | None
    answered_at: ChinaTime | None
    deal_id: uuid.UUID | None = Field(description="接受后建立的交易项目")
    created_at: ChinaTime
    waiting_since: ChinaTime | None = Field(description="待答复的意向：自何时起等待答复；已答复为 null")
    age_days: int = Field(description="待答复的已等待天数，已答复的为答复用了几天（按北京时间的日期计）")
    unanswered_notified_at: ChinaTime | None = Field(description="因久未答复已告知意向方的时间")
    contacts: InterestContacts | None = Field(
        default=None, description="接受后向双方开放的联系方式（仅在单条意向的答复中给出，列表中为 null）"
    )
