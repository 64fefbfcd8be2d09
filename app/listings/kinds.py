"""Each kind of listing described once: its model, schemas, owners, filters and publish rules.
The generic service and router read these specs instead of repeating themselves four times."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from app.accounts.models import OrganizationKind
from app.listings import filters, schemas
from app.listings.models import Achievement, Agency, Demand, Expert, ListingColumns

OK = OrganizationKind


@dataclass(frozen=True)
class KindSpec:
    kind: str
    path: str
    label_zh: str
    model: type[ListingColumns]
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    # Organization kinds whose members may own this kind of listing.
    owner_kinds: frozenset[OrganizationKind]
    # The fields that must be non-empty to publish (the issue: "title, description and field").
    required_to_publish: tuple[str, ...]
    # The date after which a published listing expires, if the kind has one.
    end_date: str | None
    # The column that names a listing in exports and messages.
    name_attr: str
    filters: Callable[..., Any]

    @property
    def a_kind(self) -> str:
        """The kind with its English article, for summaries: "an achievement", "a demand"."""
        return f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"


ACHIEVEMENT = KindSpec(
    kind="achievement",
    path="achievements",
    label_zh="科技成果",
    model=Achievement,
    create=schemas.AchievementCreate,
    update=schemas.AchievementUpdate,
    read=schemas.AchievementRead,
    owner_kinds=frozenset({OK.university, OK.research_institute, OK.enterprise}),
    required_to_publish=("title", "description", "field"),
    end_date="valid_until",
    name_attr="title",
    filters=filters.achievement_filters,
)
DEMAND = KindSpec(
    kind="demand",
    path="demands",
    label_zh="技术需求",
    model=Demand,
    create=schemas.DemandCreate,
    update=schemas.DemandUpdate,
    read=schemas.DemandRead,
    owner_kinds=frozenset({OK.enterprise}),
    required_to_publish=("title", "description", "field"),
    end_date="deadline",
    name_attr="title",
    filters=filters.demand_filters,
)
EXPERT = KindSpec(
    kind="expert",
    path="experts",
    label_zh="专家",
    model=Expert,
    create=schemas.ExpertCreate,
    update=schemas.ExpertUpdate,
    read=schemas.ExpertRead,
    # An expert's own account, whatever organization employs them; administrators too (service.py).
    owner_kinds=frozenset({OK.university, OK.research_institute, OK.enterprise, OK.agency}),
    required_to_publish=("name", "biography", "fields"),
    end_date=None,
    name_attr="name",
    filters=filters.expert_filters,
)
AGENCY = KindSpec(
    kind="agency",
    path="agencies",
    label_zh="服务机构",
    model=Agency,
    create=schemas.AgencyCreate,
    update=schemas.AgencyUpdate,
    read=schemas.AgencyRead,
    owner_kinds=frozenset({OK.agency}),
    required_to_publish=("name", "description", "service_kinds"),
    end_date=None,
    name_attr="name",
    filters=filters.agency_filters,
)

KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in (ACHIEVEMENT, DEMAND, EXPERT, AGENCY)}
