"""The rewards' request and response shapes."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints, WithJsonSchema

from app.core.types import ChinaTime, Money, Yuan, safe_text
from app.rewards.vocabulary import Beneficiary, Exclusion

RegionPrefix = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}(\d{2}(\d{2})?)?$"),
    Field(description="行政区划代码前缀（GB/T 2260）：32 江苏，3201 南京", examples=["32"]),
]
RuleDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2199, 12, 31))]
# A fraction (0.03 = 3 %) as the column holds it; written without trailing zeros ("0.03").
Rate = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value.normalize(), "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["0.03"]}),
]
RateIn = Annotated[
    Decimal,
    Field(
        gt=0,
        le=1,
        max_digits=7,
        decimal_places=6,
        description="奖励比例，认定技术交易额的小数份额（0.03 = 3%），0 < rate ≤ 1，最多六位小数",
    ),
]
Name = safe_text(max_length=200, min_length=1)
Source = safe_text(max_length=300)


class RuleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "南京市技术经理人奖励",
                    "region_code": "3201",
                    "valid_from": "2027-01-01",
                    "beneficiary": "technology_manager",
                    "rate": "0.01",
                    "annual_cap": "50000.00",
                    "source": "（政策文件名称）",
                }
            ]
        },
    )

    name: Name
    region_code: RegionPrefix
    valid_from: RuleDate
    valid_until: RuleDate | None = Field(default=None, description="有效期止（含）；空 = 长期有效")
    beneficiary: Beneficiary = Field(
        description="agency=服务机构、technology_manager=技术经理人、buyer=买方、seller=卖方"
    )
    rate: RateIn
    annual_cap: Money | None = Field(
        default=None, description="每个受益方每年（按登记年度）上限（元）；空 = 无"
    )
    minimum_contract_amount: Money | None = Field(
        default=None, description="认定合同成交额下限（元），低于此额的合同不计；空 = 无"
    )
    exclude_related_party: bool = True
    source: Source = ""


class RuleUpdate(BaseModel):
    """Only the fields sent change; `valid_until`, `annual_cap` and `minimum_contract_amount` may be
    set to null (open-ended, no cap, no minimum)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"rate": "0.02", "valid_until": "2027-12-31"}]}
    )

    name: Name | None = None
    region_code: RegionPrefix | None = None
    valid_from: RuleDate | None = None
    valid_until: RuleDate | None = None
    beneficiary: Beneficiary | None = None
    rate: RateIn | None = None
    annual_cap: Money | None = None
    minimum_contract_amount: Money | None = None
    exclude_related_party: bool | None = None
    source: Source | None = None


# Fields a PATCH may not set to null: the rule needs them.
REQUIRED_FIELDS = (
    "name",
    "region_code",
    "valid_from",
    "beneficiary",
    "rate",
    "exclude_related_party",
    "source",
)


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    name: str
    region_code: str
    valid_from: date
    valid_until: date | None
    beneficiary: Beneficiary
    rate: Rate
    annual_cap: Yuan | None
    minimum_contract_amount: Yuan | None
    exclude_related_party: bool
    source: str
    created_at: ChinaTime
    updated_at: ChinaTime


class RewardContract(BaseModel):
    """A registered contract reached through a deal, as a rule sees it."""

    contract_application_id: uuid.UUID
    registration_number: str
    deal_id: uuid.UUID
    registered_on: date
    stats_region_code: str
    contract_amount: Yuan = Field(description="认定合同成交额（现行，含变更登记）")
    technology_amount: Yuan = Field(description="认定技术交易额（现行，含变更登记）")


class CountedContract(RewardContract):
    reward_amount: Yuan = Field(description="比例 × 技术交易额，按分四舍五入（ROUND_HALF_UP）")


class ExcludedContract(RewardContract):
    reason: Exclusion = Field(
        description="second_contract_of_deal=同一交易的第二份合同、no_broker=无技术经理人/服务机构、"
        "no_party=交易未记录该方、not_in_rule_region_or_period=不在规则地区或有效期内、"
        "related_party=关联交易、below_minimum=成交额低于下限"
    )
    reason_label: str


class BeneficiaryRewards(BaseModel):
    beneficiary: Beneficiary
    beneficiary_id: uuid.UUID = Field(
        description="机构编号（agency/buyer/seller）或用户编号（technology_manager）"
    )
    beneficiary_name: str
    counted: list[CountedContract]
    excluded: list[ExcludedContract]
    amount_before_cap: Yuan = Field(description="计入合同奖励额之和（各自已按分舍入）")
    annual_cap: Yuan | None
    amount_after_cap: Yuan = Field(description="min(封顶前金额, 年度上限)")


class RuleRewards(BaseModel):
    rule: RuleRead
    beneficiaries: list[BeneficiaryRewards]
    unattributed: list[ExcludedContract] = Field(
        description="规则地区内、无法归属受益方的合同（交易无经纪人或未记录该方）；仅管理员可见"
    )
    amount_after_cap: Yuan = Field(description="本规则下所列受益方封顶后金额之和")


class RewardReport(BaseModel):
    year: int
    region: str | None
    rules: list[RuleRewards]
