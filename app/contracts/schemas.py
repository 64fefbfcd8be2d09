import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.contracts.vocabulary import SUBTYPES, ContractSubtype, ContractType, IPCategory, PartyKind, describe
from app.contracts.workflow import STATUS_DESCRIPTION, Action, Status
from app.core.errors import FieldError
from app.core.types import CENT, ChinaTime, CreditCode, Money, RegionCode, safe_text
from app.core.vocabulary import FIELD_DESCRIPTION, TechnologyField


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT)


# A JSON number or a string with at most two decimals (parsed exactly, see http.ExactJSONRoute).
Amount = Annotated[Money, AfterValidator(_quantize)]
# What an officer certifies: a contract whose technology amount is zero (or -0.00) is not registrable.
PositiveAmount = Annotated[Amount, Field(gt=0)]
Name = safe_text(max_length=200, min_length=1)
Text = safe_text(max_length=2000, min_length=1)


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    credit_code: CreditCode | None = Field(default=None, description="统一社会信用代码（境外主体可空）")
    region_code: RegionCode | None = Field(
        default=None, description="行政区划代码（境外主体为空；申请登记方可省略，取本机构登记的地区）"
    )
    kind: PartyKind = Field(description=describe(PartyKind, "主体类型"))


class Deductions(BaseModel):
    """Non-technical costs deducted from the contract amount (非技术性费用)."""

    model_config = ConfigDict(extra="forbid")

    equipment: Amount = Decimal("0.00")
    materials: Amount = Decimal("0.00")
    construction: Amount = Decimal("0.00")
    other: Amount = Decimal("0.00")

    def total(self) -> Decimal:
        return self.equipment + self.materials + self.construction + self.other


class ApplicationFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract_type: ContractType = Field(description=describe(ContractType, "合同类型"))
    contract_subtype: ContractSubtype = Field(description=describe(ContractSubtype, "合同子类"))
    project_name: Name
    is_import: bool = Field(default=False, description="技术进口合同（由境内买方申请登记）")
    buyer: Party
    seller: Party
    signed_on: date
    valid_from: date
    valid_until: date
    contract_amount: Amount = Field(description="成交额（元）")
    claimed_technology_amount: Amount = Field(description="申报技术交易额（元）= 成交额 − 非技术性费用")
    deductions: Deductions = Field(default_factory=Deductions)
    technology_field: TechnologyField = Field(description=FIELD_DESCRIPTION)
    ip_kind: IPCategory = Field(
        description=describe(IPCategory, "知识产权类别（登记表的分类，不是成果的 IPKind）")
    )
    socio_economic_objective: safe_text(max_length=100, min_length=1)
    expected_new_investment: Amount | None = Field(
        default=None, description="预计新增投入（元，技术转让必填）"
    )
    expected_new_output: Amount | None = Field(default=None, description="预计新增产值（元，技术转让必填）")
    achievement_id: uuid.UUID | None = None
    demand_id: uuid.UUID | None = None
    disputed: bool = Field(default=False, description="有争议（将提交专家评审）")

    def problems(self) -> list[FieldError]:
        """Cross-field rules, each naming its field (checked by the service before anything is written)."""
        found: list[FieldError] = []

        def add(field: str, code: str, en: str, zh: str) -> None:
            found.append(FieldError(field, code, en, zh))

        if self.contract_subtype not in SUBTYPES[self.contract_type]:
            add(
                "contract_subtype",
                "subtype_mismatch",
                "This subtype does not belong to the contract type.",
                "合同子类与合同类型不符。",
            )
        if self.valid_until < self.valid_from:
            add(
                "valid_until",
                "before_valid_from",
                "valid_until is before valid_from.",
                "有效期止早于有效期起。",
            )
        if self.contract_amount - self.deductions.total() != self.claimed_technology_amount:
            add(
                "claimed_technology_amount",
                "does_not_add_up",
                "claimed_technology_amount must equal contract_amount minus the deductions.",
                "申报技术交易额须等于成交额减去各项非技术性费用。",
            )
        if self.contract_type == ContractType.transfer:
            for name in ("expected_new_investment", "expected_new_output"):
                if getattr(self, name) is None:
                    add(
                        name,
                        "required_for_transfer",
                        f"{name} is required for transfer contracts.",
                        "技术转让合同须填写预计新增投入和新增产值。",
                    )
        if self.valid_until < self.signed_on:
            add(
                "valid_until",
                "before_signed_on",
                "The validity period ends before the contract was signed.",
                "有效期止早于签订日期。",
            )
        if self.is_import:
            # 技术进口: the seller is abroad, so it has neither a Chinese credit code nor a region.
            for name in ("credit_code", "region_code"):
                if getattr(self.seller, name) is not None:
                    add(
                        f"seller.{name}",
                        "seller_not_abroad",
                        "An import contract's seller is abroad: no Chinese credit code or region.",
                        "技术进口合同的卖方为境外主体，不应有统一社会信用代码或行政区划代码。",
                    )
        if self.buyer.credit_code is not None and self.buyer.credit_code == self.seller.credit_code:
            add(
                "buyer.credit_code",
                "same_as_seller",
                "Buyer and seller are the same organisation.",
                "买方与卖方为同一主体。",
            )
        side = "buyer" if self.is_import else "seller"
        if (self.buyer if self.is_import else self.seller).credit_code is None:
            add(
                f"{side}.credit_code",
                "required_for_applicant",
                "The applicant party needs it.",
                "申请登记方须填写。",
            )
        return found


class ApplicationCreate(ApplicationFields):
    """A new application (草稿) by the seller side."""


class ApplicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    status: Status = Field(description=STATUS_DESCRIPTION)
    applicant_organization_id: uuid.UUID
    office_id: uuid.UUID
    contract_type: ContractType
    contract_subtype: ContractSubtype
    project_name: str
    is_import: bool
    buyer_name: str
    buyer_credit_code: str | None
    buyer_region_code: str | None
    buyer_kind: PartyKind
    seller_name: str
    seller_credit_code: str | None
    seller_region_code: str | None
    seller_kind: PartyKind
    stats_region_code: str
    signed_on: date
    valid_from: date
    valid_until: date
    contract_amount: Decimal
    claimed_technology_amount: Decimal
    deduction_equipment: Decimal
    deduction_materials: Decimal
    deduction_construction: Decimal
    deduction_other: Decimal
    technology_field: TechnologyField
    ip_kind: IPCategory
    socio_economic_objective: str
    expected_new_investment: Decimal | None
    expected_new_output: Decimal | None
    deal_id: uuid.UUID | None = Field(
        description="交易项目：仅由交易项目的移交（POST /deals/{id}/contract-application）设定，不可填写"
    )
    achievement_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    document_sha256: str | None
    document_name: str | None
    disputed: bool
    correction_items: list[str]
    expert_opinions: list[dict[str, Any]]
    submitted_at: ChinaTime | None
    accepted_on: date | None
    due_on: date | None
    due_provisional: bool
    decided_on: date | None
    decided_on_time: bool | None
    registration_number: str | None
    registered_on: date | None
    registered_contract_amount: Decimal | None
    registered_technology_amount: Decimal | None
    amendment_count: int
    pending_contract_amount: Decimal | None = Field(
        description="变更登记待专家评审的合同成交额（生效前不计入统计）"
    )
    pending_technology_amount: Decimal | None = Field(description="变更登记待专家评审的技术交易额")
    refusal_reason: str | None
    created_at: ChinaTime
    updated_at: ChinaTime
    allowed_actions: list[Action] = Field(default=[], description="当前用户在此状态下可执行的操作")


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Text] = Field(min_length=1, max_length=50, description="需补正的材料清单")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text


class OptionalComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Text | None = None


class ExpertOpinion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expert_name: Name
    opinion: Text
    recommended_technology_amount: Amount | None = None


class RegisterRequest(BaseModel):
    """准予登记: the certified technology amount (≤ the contract amount; may be below the claim)."""

    model_config = ConfigDict(extra="forbid")
    technology_amount: PositiveAmount
    comment: Text | None = None


class AmendRequest(BaseModel):
    """变更登记: the new amounts supersede the registered ones; the history keeps the old."""

    model_config = ConfigDict(extra="forbid")
    contract_amount: PositiveAmount
    technology_amount: PositiveAmount
    reason: Text


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    from_status: str
    to_status: str
    actor_user_id: uuid.UUID | None
    actor_capacity: str
    contract_amount: Decimal | None
    technology_amount: Decimal | None
    comment: str | None
    details: dict[str, Any]
    created_at: ChinaTime


class QueueItem(BaseModel):
    id: uuid.UUID
    project_name: str
    status: Status
    waiting_since: ChinaTime = Field(description="进入当前状态的时间：新提交为提交时，补正后为重新提交时")
    working_days_waited: int = Field(
        description="已等待的工作日数：waiting_since 当日（中国时间）之后至今天的法定工作日，当日为 0"
    )
    accepted_on: date | None
    due_on: date | None
    due_provisional: bool
    working_days_left: int | None = Field(
        default=None, description="剩余工作日（负数表示已逾期；新提交尚未受理、未起算时为空）"
    )
    overdue: bool = False
    due_soon: bool = False
