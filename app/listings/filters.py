"""List filters per kind, as FastAPI dependencies that turn query parameters into exact SQL
conditions (no search here: full-text search is the search domain's).

A dependency answers `Criteria`: the name of each condition asked for and its value. The names
alone decide the SQL, so the repository compiles each combination once; the values are bound
per request. `condition` holds the SQL of every name, with the value as a named parameter."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import ColumnElement, bindparam, or_

from app.accounts.models import User
from app.core.errors import FieldError, ValidationFailed
from app.core.vocabulary import FIELD_DESCRIPTION, TechnologyField
from app.listings.models import Achievement, Agency, Demand, Expert, ListingColumns
from app.listings.vocabulary import AgencyService, CooperationMode, ExpertService, ListingStatus, TransferMode

# Condition name → the value bound to its parameter of the same name (None for a condition whose
# parameters are the caller's own, bound by the repository).
Criteria = dict[str, Any]
PriceQuery = Annotated[Decimal | None, Query(ge=0, lt=Decimal("1e14"), max_digits=16, decimal_places=2)]

_Template = Callable[[type[ListingColumns]], ColumnElement[bool]]


def _owned(model: type[ListingColumns]) -> ColumnElement[bool]:
    mine = model.owner_organization_id == bindparam("p_org")
    return or_(mine, Expert.user_id == bindparam("p_user")) if model is Expert else mine


_COMMON: dict[str, _Template] = {
    "status": lambda m: m.status == bindparam("status"),
    "owner": _owned,
    # A 2-, 4- or 6-digit prefix of `320100`-style codes, as a b-tree range.
    "region_from": lambda m: m.region_code >= bindparam("region_from"),
    "region_to": lambda m: m.region_code <= bindparam("region_to"),
    "updated_since": lambda m: m.updated_at >= bindparam("updated_since"),
}
_BY_KIND: dict[type[ListingColumns], dict[str, _Template]] = {
    Achievement: {
        "field": lambda m: Achievement.field == bindparam("field"),
        "maturity_min": lambda m: Achievement.maturity >= bindparam("maturity_min"),
        "maturity_max": lambda m: Achievement.maturity <= bindparam("maturity_max"),
        "transfer_mode": lambda m: Achievement.transfer_modes.overlap(bindparam("transfer_mode")),
        "price_min": lambda m: Achievement.asking_price >= bindparam("price_min"),
        "price_max": lambda m: Achievement.asking_price <= bindparam("price_max"),
        "publicly_funded": lambda m: Achievement.publicly_funded == bindparam("publicly_funded"),
    },
    Demand: {
        "field": lambda m: Demand.field == bindparam("field"),
        "cooperation_mode": lambda m: Demand.cooperation_modes.overlap(bindparam("cooperation_mode")),
        # A budget range matches demands whose own range overlaps it.
        "budget_min": lambda m: Demand.budget_max >= bindparam("budget_min"),
        "budget_max": lambda m: Demand.budget_min <= bindparam("budget_max"),
    },
    Expert: {
        "field": lambda m: Expert.fields.contains(bindparam("field")),
        "service": lambda m: Expert.services.overlap(bindparam("service")),
    },
    Agency: {
        "service_kind": lambda m: Agency.service_kinds.overlap(bindparam("service_kind")),
        "serves": lambda m: Agency.regions_served.contains(bindparam("serves")),
    },
}


def condition(model: type[ListingColumns], name: str) -> ColumnElement[bool]:
    """The SQL of the condition `name` on `model`, its value a parameter named `name`."""
    template = _COMMON.get(name) or _BY_KIND[model][name]
    return template(model)


def _range_error(field: str) -> ValidationFailed:
    return ValidationFailed(
        message_en=f"{field}: the lower bound is above the upper bound.",
        message_zh=f"{field}：下限大于上限。",
        errors=[FieldError(field, "invalid_range", "lower bound above upper bound", "下限大于上限")],
    )


def _given(**values: Any) -> Criteria:
    return {name: value for name, value in values.items() if value is not None}


@dataclass
class Common:
    """Parameters every list takes; `criteria` turns the filtering ones into criteria."""

    status: ListingStatus | None
    owner: Literal["me"] | None
    region: str | None
    updated_since: datetime | None
    sort: Literal["-updated_at", "updated_at", "-published_at", "-created_at"]

    def criteria(self, user: User | None) -> Criteria:
        out: Criteria = _given(
            status=self.status.value if self.status is not None else None, updated_since=self.updated_since
        )
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
            out["owner"] = None
        if self.region is not None:
            out.update(region_from=self.region.ljust(6, "0"), region_to=self.region.ljust(6, "9"))
        if self.updated_since is not None and self.updated_since.tzinfo is None:
            raise ValidationFailed(
                errors=[
                    FieldError("updated_since", "timezone_aware", "needs a time zone", "日期时间须带时区")
                ]
            )
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
) -> Criteria:
    if maturity_min is not None and maturity_max is not None and maturity_min > maturity_max:
        raise _range_error("maturity_min")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise _range_error("price_min")
    return _given(
        field=field.value if field is not None else None,
        maturity_min=maturity_min,
        maturity_max=maturity_max,
        transfer_mode=[m.value for m in transfer_mode] if transfer_mode else None,
        price_min=price_min,
        price_max=price_max,
        publicly_funded=publicly_funded,
    )


async def demand_filters(
    field: Annotated[TechnologyField | None, Query(description=FIELD_DESCRIPTION)] = None,
    cooperation_mode: Annotated[
        list[CooperationMode] | None, Query(description=CooperationMode.describe("合作方式（任一）"))
    ] = None,
    budget_min: PriceQuery = None,
    budget_max: PriceQuery = None,
) -> Criteria:
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise _range_error("budget_min")
    return _given(
        field=field.value if field is not None else None,
        cooperation_mode=[m.value for m in cooperation_mode] if cooperation_mode else None,
        budget_min=budget_min,
        budget_max=budget_max,
    )


async def expert_filters(
    field: Annotated[TechnologyField | None, Query(description=FIELD_DESCRIPTION)] = None,
    service: Annotated[
        list[ExpertService] | None, Query(description=ExpertService.describe("服务类型（任一）"))
    ] = None,
) -> Criteria:
    return _given(
        field=[field.value] if field is not None else None,
        service=[s.value for s in service] if service else None,
    )


async def agency_filters(
    service_kind: Annotated[
        list[AgencyService] | None, Query(description=AgencyService.describe("服务类型（任一）"))
    ] = None,
    serves: Annotated[str | None, Query(pattern=r"^\d{6}$", description="服务该地区（行政区划代码）")] = None,
) -> Criteria:
    return _given(
        service_kind=[s.value for s in service_kind] if service_kind else None,
        serves=[serves] if serves is not None else None,
    )
