"""List filters per kind, as FastAPI dependencies that turn query parameters into exact SQL
conditions (no search here: full-text search is the search domain's)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Query
from sqlalchemy import ColumnElement, and_, or_

from app.accounts.models import User
from app.core.errors import FieldError, ValidationFailed
from app.core.vocabulary import FIELD_DESCRIPTION, TechnologyField
from app.listings.models import Achievement, Agency, Demand, Expert, ListingColumns
from app.listings.vocabulary import AgencyService, CooperationMode, ExpertService, ListingStatus, TransferMode

Conditions = list[ColumnElement[bool]]
PriceQuery = Annotated[Decimal | None, Query(ge=0, lt=Decimal("1e14"), max_digits=16, decimal_places=2)]


def _range_error(field: str) -> ValidationFailed:
    return ValidationFailed(
        message_en=f"{field}: the lower bound is above the upper bound.",
        message_zh=f"{field}：下限大于上限。",
        errors=[FieldError(field, "invalid_range", "lower bound above upper bound", "下限大于上限")],
    )


def region_prefix(model: type[ListingColumns], prefix: str) -> ColumnElement[bool]:
    """`320100`-style codes under a 2-, 4- or 6-digit prefix, as a b-tree range."""
    return and_(model.region_code >= prefix.ljust(6, "0"), model.region_code <= prefix.ljust(6, "9"))


@dataclass
class Common:
    """Parameters every list takes; `apply` turns them into conditions for `model`."""

    status: ListingStatus | None
    owner: Literal["me"] | None
    region: str | None
    updated_since: datetime | None
    sort: Literal["-updated_at", "updated_at", "-published_at", "-created_at"]

    def conditions(self, model: type[ListingColumns], user: User | None) -> Conditions:
        out: Conditions = []
        if self.status is not None:
            out.append(model.status == self.status)
        if self.owner == "me":
            if user is None:
                raise ValidationFailed(
                    errors=[
                        FieldError(
                            "owner",
                            "sign_in_required",
                            "owner=me needs a signed-in caller",
                            "owner=me 需要登录",
                        )
                    ]
                )
            mine = model.owner_organization_id == user.organization_id
            out.append(or_(mine, Expert.user_id == user.id) if model is Expert else mine)
        if self.region is not None:
            out.append(region_prefix(model, self.region))
        if self.updated_since is not None:
            if self.updated_since.tzinfo is None:
                raise ValidationFailed(
                    errors=[
                        FieldError("updated_since", "timezone_aware", "needs a time zone", "日期时间须带时区")
                    ]
                )
            out.append(model.updated_at >= self.updated_since)
        return out


async def common_params(
    status: Annotated[
        ListingStatus | None, Query(description=ListingStatus.describe("状态（默认只含可见的）"))
    ] = None,
    owner: Annotated[Literal["me"] | None, Query(description="me = 只看本机构的")] = None,
    region: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{2}){0,2}$", description="地区代码前缀：32=江苏，3201=南京")
    ] = None,
    updated_since: Annotated[
        datetime | None, Query(description="只看此时刻后更新的（ISO 8601，带时区）")
    ] = None,
    sort: Annotated[
        Literal["-updated_at", "updated_at", "-published_at", "-created_at"],
        Query(description="排序（id 为次序键）"),
    ] = "-updated_at",
) -> Common:
    return Common(status, owner, region, updated_since, sort)


async def achievement_filters(
    field: Annotated[TechnologyField | None, Query(description=FIELD_DESCRIPTION)] = None,
    maturity_min: Annotated[int | None, Query(ge=1, le=9, description="最低技术成熟度")] = None,
    maturity_max: Annotated[int | None, Query(ge=1, le=9, description="最高技术成熟度")] = None,
    transfer_mode: Annotated[
        list[TransferMode] | None, Query(description=TransferMode.describe("转化方式（任一）"))
    ] = None,
    price_min: PriceQuery = None,
    price_max: PriceQuery = None,
    publicly_funded: Annotated[bool | None, Query(description="财政资金项目成果")] = None,
) -> Conditions:
    out: Conditions = []
    if field is not None:
        out.append(Achievement.field == field)
    if maturity_min is not None and maturity_max is not None and maturity_min > maturity_max:
        raise _range_error("maturity_min")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise _range_error("price_min")
    if maturity_min is not None:
        out.append(Achievement.maturity >= maturity_min)
    if maturity_max is not None:
        out.append(Achievement.maturity <= maturity_max)
    if transfer_mode:
        out.append(Achievement.transfer_modes.overlap([m.value for m in transfer_mode]))
    if price_min is not None:
        out.append(Achievement.asking_price >= price_min)
    if price_max is not None:
        out.append(Achievement.asking_price <= price_max)
    if publicly_funded is not None:
        out.append(Achievement.publicly_funded.is_(publicly_funded))
    return out


async def demand_filters(
    field: Annotated[TechnologyField | None, Query(description=FIELD_DESCRIPTION)] = None,
    cooperation_mode: Annotated[
        list[CooperationMode] | None, Query(description=CooperationMode.describe("合作方式（任一）"))
    ] = None,
    budget_min: PriceQuery = None,
    budget_max: PriceQuery = None,
) -> Conditions:
    """A budget range matches demands whose own range overlaps it."""
    out: Conditions = []
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise _range_error("budget_min")
    if field is not None:
        out.append(Demand.field == field)
    if cooperation_mode:
        out.append(Demand.cooperation_modes.overlap([m.value for m in cooperation_mode]))
    if budget_min is not None:
        out.append(Demand.budget_max >= budget_min)
    if budget_max is not None:
        out.append(Demand.budget_min <= budget_max)
    return out


async def expert_filters(
    field: Annotated[TechnologyField | None, Query(description=FIELD_DESCRIPTION)] = None,
    service: Annotated[
        list[ExpertService] | None, Query(description=ExpertService.describe("服务类型（任一）"))
    ] = None,
) -> Conditions:
    out: Conditions = []
    if field is not None:
        out.append(Expert.fields.contains([field.value]))
    if service:
        out.append(Expert.services.overlap([s.value for s in service]))
    return out


async def agency_filters(
    service_kind: Annotated[
        list[AgencyService] | None, Query(description=AgencyService.describe("服务类型（任一）"))
    ] = None,
    serves: Annotated[str | None, Query(pattern=r"^\d{6}$", description="服务该地区（行政区划代码）")] = None,
) -> Conditions:
    out: Conditions = []
    if service_kind:
        out.append(Agency.service_kinds.overlap([s.value for s in service_kind]))
    if serves is not None:
        out.append(Agency.regions_served.contains([serves]))
    return out
