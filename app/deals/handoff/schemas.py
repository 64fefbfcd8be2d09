"""The hand-off request: what the deal cannot know about the contract."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.contracts.schemas import Amount, Deductions, Name
from app.contracts.vocabulary import ContractSubtype, ContractType, IPCategory, describe
from app.core.types import safe_text
from app.core.vocabulary import FIELD_DESCRIPTION, TechnologyField


class HandOff(BaseModel):
    """Every field is optional here; the service names each one the deal cannot fill (422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "valid_until": "2029-12-31",
                    "socio_economic_objective": "工业发展",
                    "expected_new_investment": "2000000.00",
                    "expected_new_output": "5000000.00",
                }
            ]
        },
    )

    valid_until: date | None = Field(default=None, description="合同有效期止（必填）")
    socio_economic_objective: safe_text(max_length=100, min_length=1) | None = Field(
        default=None, description="社会经济目标（必填）"
    )
    expected_new_investment: Amount | None = Field(
        default=None, description="预计新增投入（元，技术转让必填）"
    )
    expected_new_output: Amount | None = Field(default=None, description="预计新增产值（元，技术转让必填）")
    signed_on: date | None = Field(
        default=None, description="签订日期；缺省为交易项目进入“已签订合同”之日（中国时间）"
    )
    valid_from: date | None = Field(default=None, description="有效期起；缺省为签订日期")
    contract_type: ContractType | None = Field(
        default=None,
        description=describe(ContractType, "合同类型；缺省由交易方式确定（作价投资、其他须填写）"),
    )
    contract_subtype: ContractSubtype | None = Field(
        default=None, description=describe(ContractSubtype, "合同子类；与合同类型同时填写")
    )
    project_name: Name | None = Field(default=None, description="项目名称；缺省为交易项目名称")
    technology_field: TechnologyField | None = Field(
        default=None, description=f"缺省为成果（需求）的技术领域。{FIELD_DESCRIPTION}"
    )
    ip_kind: IPCategory | None = Field(
        default=None, description=describe(IPCategory, "知识产权类别；缺省由成果的第一项知识产权确定")
    )
    deductions: Deductions = Field(
        default_factory=Deductions, description="非技术性费用；申报技术交易额 = 成交价 − 其合计"
    )
    disputed: bool = Field(default=False, description="有争议（将提交专家评审）")
