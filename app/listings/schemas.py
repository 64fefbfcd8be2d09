"""Input and output shapes of the four kinds. The API and the catalogue import validate through
the same `*Create` classes, so a row that imports is a row the API would accept."""

import uuid
from datetime import date
from typing import Annotated, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, computed_field, create_model

from app.core.types import ChinaTime, CreditCode, Money, RegionCode, Yuan, safe_text
from app.core.vocabulary import FIELD_DESCRIPTION, TechnologyField
from app.listings.vocabulary import (
    AgencyService,
    CooperationMode,
    ExpertService,
    IPKind,
    IPStatus,
    ListingStatus,
    TransferMode,
    maturity_stage,
)


def _text(max_length: int, *, min_length: int = 0) -> Any:
    return safe_text(max_length=max_length, min_length=min_length)


Title = Annotated[_text(200, min_length=1), Field(description="标题 / title")]
LongText = _text(20_000)
ShortText = _text(200)
Keyword = _text(50, min_length=1)
PersonName = _text(50, min_length=1)
Keywords = Annotated[list[Keyword], Field(max_length=30, description="关键词（最多 30 个）")]
Field_ = Annotated[TechnologyField, Field(description=FIELD_DESCRIPTION)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{4,28}$")]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(_Input):
    """联系人. Never shown to anonymous callers."""

    name: PersonName
    phone: Phone | None = None
    email: Annotated[EmailStr, Field(max_length=254)] | None = None


class IPRight(_Input):
    """知识产权 the achievement rests on."""

    kind: Annotated[IPKind, Field(description=IPKind.describe("知识产权类型"))]
    number: Annotated[_text(50), Field(description="专利号/登记号")] = ""
    status: Annotated[IPStatus, Field(description=IPStatus.describe("法律状态"))] = IPStatus.granted


Contacts = Annotated[list[Contact], Field(max_length=5)]


class AchievementCreate(_Input):
    """科技成果. Only title, description and field are needed to publish."""

    title: Title
    description: Annotated[LongText, Field(description="成果简介")] = ""
    field: Field_ | None = None
    keywords: Keywords = []
    maturity: (
        Annotated[
            int,
            Field(ge=1, le=9, description="技术成熟度 TRL 1–9：1–3 实验室，4–5 小试，6–7 中试，8–9 产业化"),
        ]
        | None
    ) = None
    ip_rights: Annotated[list[IPRight], Field(max_length=50, description="知识产权")] = []
    transfer_modes: Annotated[
        list[TransferMode], Field(max_length=8, description=TransferMode.describe("转化方式"))
    ] = []
    asking_price: Annotated[Money, Field(description="意向价格（元）；空为面议")] | None = None
    region_code: RegionCode | None = None
    team: Annotated[list[PersonName], Field(max_length=50, description="完成人/团队")] = []
    application_scenarios: Annotated[LongText, Field(description="应用场景")] = ""
    publicly_funded: Annotated[bool, Field(description="是否财政资金项目成果（须汇交）")] = False
    funding_project: Annotated[ShortText, Field(description="财政资金项目名称/编号")] | None = None
    contacts: Contacts = []
    valid_until: Annotated[date, Field(description="有效期至（此后自动过期）")] | None = None


class DemandCreate(_Input):
    """技术需求 of an enterprise."""

    title: Title
    description: Annotated[LongText, Field(description="需求描述")] = ""
    field: Field_ | None = None
    keywords: Keywords = []
    cooperation_modes: Annotated[
        list[CooperationMode], Field(max_length=7, description=CooperationMode.describe("合作方式"))
    ] = []
    budget_min: Annotated[Money, Field(description="预算下限（元）")] | None = None
    budget_max: Annotated[Money, Field(description="预算上限（元）")] | None = None
    deadline: Annotated[date, Field(description="截止日期（此后自动过期）")] | None = None
    region_code: RegionCode | None = None
    confidential: Annotated[bool, Field(description="保密：对外隐藏企业名称和联系人")] = False
    contacts: Contacts = []


class ExpertCreate(_Input):
    """专家. Phone and e-mail are never public."""

    name: Annotated[PersonName, Field(description="姓名")]
    professional_title: Annotated[_text(100), Field(description="职称")] = ""
    institution: Annotated[ShortText, Field(description="工作单位")] = ""
    fields: Annotated[list[TechnologyField], Field(max_length=11, description=FIELD_DESCRIPTION)] = []
    keywords: Keywords = []
    biography: Annotated[LongText, Field(description="个人简介")] = ""
    services: Annotated[
        list[ExpertService], Field(max_length=3, description=ExpertService.describe("服务类型"))
    ] = []
    region_code: RegionCode | None = None
    phone: Phone | None = None
    email: Annotated[EmailStr, Field(max_length=254)] | None = None


class AgencyCreate(_Input):
    """服务机构 of an agency organization."""

    name: Annotated[_text(200, min_length=1), Field(description="机构名称")]
    credit_code: CreditCode | None = None
    description: Annotated[LongText, Field(description="机构简介")] = ""
    service_kinds: Annotated[
        list[AgencyService], Field(max_length=8, description=AgencyService.describe("服务类型"))
    ] = []
    keywords: Keywords = []
    region_code: RegionCode | None = None
    regions_served: Annotated[
        list[RegionCode], Field(max_length=200, description="服务区域（行政区划代码）")
    ] = []
    qualifications: Annotated[
        list[_text(100, min_length=1)], Field(max_length=20, description="资质，如 国家技术转移示范机构")
    ] = []
    contacts: Contacts = []


class _UpdateBase(_Input):
    version: Annotated[int | None, Field(ge=1, description="the version read; a mismatch answers 409")] = None


def _partial(create: type[_Input]) -> type[_Input]:
    """`XUpdate`: every field of `XCreate`, optional, with the same constraints (PATCH semantics)."""
    hints = get_type_hints(create, include_extras=True)
    fields: dict[str, Any] = {name: (hints[name] | None, None) for name in create.model_fields}
    name = create.__name__.replace("Create", "Update")
    return create_model(
        name, __base__=_UpdateBase, __doc__=f"Change some fields of a {create.__doc__}", **fields
    )


AchievementUpdate = _partial(AchievementCreate)
DemandUpdate = _partial(DemandCreate)
ExpertUpdate = _partial(ExpertCreate)
AgencyUpdate = _partial(AgencyCreate)


class TakeDown(_Input):
    reason: Annotated[_text(500, min_length=2), Field(description="下架理由（告知所属机构）")]


class _ListingRead(BaseModel):
    """Fields the caller may not see are null (see the visibility rules in the docs)."""

    id: uuid.UUID
    kind: str
    status: Annotated[ListingStatus, Field(description=ListingStatus.describe("状态"))]
    version: int
    owner_organization_id: uuid.UUID | None = None
    owner_organization_name: str | None = None
    created_by_id: uuid.UUID | None = None
    status_reason: str | None = None
    keywords: list[str]
    region_code: str | None
    created_at: ChinaTime
    updated_at: ChinaTime
    published_at: ChinaTime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return self.status.label


class AchievementRead(_ListingRead):
    title: str
    description: str
    field: TechnologyField | None
    maturity: int | None
    ip_rights: list[dict[str, Any]]
    transfer_modes: list[str]
    asking_price: Yuan | None
    team: list[str]
    application_scenarios: str
    publicly_funded: bool
    funding_project: str | None
    contacts: list[dict[str, Any]] | None = None
    valid_until: date | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def maturity_stage(self) -> str | None:
        return maturity_stage(self.maturity)


class DemandRead(_ListingRead):
    title: str
    description: str
    field: TechnologyField | None
    cooperation_modes: list[str]
    budget_min: Yuan | None
    budget_max: Yuan | None
    deadline: date | None
    confidential: bool
    contacts: list[dict[str, Any]] | None = None


class ExpertRead(_ListingRead):
    name: str
    professional_title: str
    institution: str
    fields: list[str]
    biography: str
    services: list[str]
    phone: str | None = None
    email: str | None = None
    user_id: uuid.UUID | None = None


class AgencyRead(_ListingRead):
    name: str
    credit_code: str | None
    description: str
    service_kinds: list[str]
    regions_served: list[str]
    qualifications: list[str]
    contacts: list[dict[str, Any]] | None = None


class Created(BaseModel):
    id: uuid.UUID
    version: int
    status: ListingStatus
