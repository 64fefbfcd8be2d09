"""The rules of the four kinds: who may create, change and move a listing through its lifecycle.
Services flush, never commit; every change goes through `events.record_change`."""

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit.service import SystemActor, diff
from app.core.db import Database, add_unique
from app.core.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    ValidationFailed,
)
from app.core.types import today_in_china
from app.listings import lifecycle, policy, repository
from app.listings.events import record_change, record_changes_bulk
from app.listings.filters import Criteria
from app.listings.kinds import KINDS, KindSpec
from app.listings.lifecycle import Action, Party
from app.listings.models import Expert, ListingColumns
from app.listings.vocabulary import ListingStatus

ACTION_NAMES = {Action.publish: "published", Action.close: "closed", Action.take_down: "taken_down"}


def _not_found(spec: KindSpec) -> NotFound:
    return NotFound(
        code="listing_not_found",
        message_en=f"No such {spec.kind}.",
        message_zh=f"{spec.label_zh}不存在。",
        errors=[FieldError("id", "not_found", f"no {spec.kind} with this id", f"没有此{spec.label_zh}")],
    )


def _not_yours(spec: KindSpec) -> NotPermitted:
    return NotPermitted(
        code="not_listing_owner",
        message_en=f"This {spec.kind} belongs to another organization.",
        message_zh=f"该{spec.label_zh}属于其他机构，无权修改。",
        errors=[FieldError("id", "not_owner", "belongs to another organization", "属于其他机构")],
    )


def may_own(spec: KindSpec, user: User) -> None:
    """Raise unless `user` may create listings of this kind for their organization."""
    if spec.kind == "expert" and user.role == Role.admin:
        return
    if user.role not in (Role.member, Role.tech_manager) or user.organization.kind not in spec.owner_kinds:
        raise NotPermitted(
            code="organization_kind_not_allowed",
            message_en=f"{user.organization.kind.value} organizations cannot own {spec.path}.",
            message_zh=f"{user.organization.kind.label}不能发布{spec.label_zh}。",
        )


def check_cross_fields(spec: KindSpec, values: Mapping[str, Any]) -> list[FieldError]:
    """Rules across fields, shared by the API and the import."""
    errors = []
    low, high = values.get("budget_min"), values.get("budget_max")
    if low is not None and high is not None and low > high:
        errors.append(
            FieldError("budget_min", "invalid_range", "budget_min exceeds budget_max", "预算下限大于上限")
        )
    return errors


def publish_problems(spec: KindSpec, listing: ListingColumns, today: date) -> list[FieldError]:
    errors = [
        FieldError(name, "required_to_publish", f"{name} is required to publish", "发布前须填写此项")
        for name in spec.required_to_publish
        if not getattr(listing, name)
    ]
    if spec.end_date and (end := getattr(listing, spec.end_date)) is not None and end < today:
        errors.append(FieldError(spec.end_date, "in_the_past", "the end date has passed", "截止日期已过"))
    if spec.kind == "achievement" and listing.publicly_funded and not listing.funding_project:  # type: ignore[attr-defined]
        errors.append(
            FieldError(
                "funding_project",
                "required_to_publish",
                "publicly funded: name the project",
                "财政资金项目成果须填写项目名称",
            )
        )
    return errors


def _raise(errors: list[FieldError]) -> None:
    if errors:
        names = "、".join(e.field for e in errors)
        raise ValidationFailed(
            message_zh=f"字段无效：{names}", message_en=f"Invalid fields: {names}", errors=errors
        )


def _dump(data: BaseModel, **kwargs: Any) -> dict[str, Any]:
    # python mode keeps Decimal and date; JSONB columns get plain dicts with str-valued enums.
    return data.model_dump(mode="python", **kwargs)


async def create(session: AsyncSession, spec: KindSpec, *, user: User, data: BaseModel) -> ListingColumns:
    may_own(spec, user)
    values = _dump(data)
    _raise(check_cross_fields(spec, values))
    listing = spec.model(
        id=uuid.uuid4(),
        owner_organization_id=user.organization_id,
        created_by_id=user.id,
        status=ListingStatus.draft,
        version=1,
        **values,
    )
    if isinstance(listing, Expert) and user.role != Role.admin:
        listing.user_id = user.id  # one profile per account: ix_experts_user_id
    if await add_unique(session, listing, "ix_experts_user_id"):
        raise Conflict(
            code="expert_profile_exists",
            message_en="You already have an expert profile; edit it instead.",
            message_zh="您已有专家信息，请直接修改。",
        )
    await record_change(
        session, actor=user, kind=spec.kind, listing=listing, action="created", changes=values
    )
    return listing


async def get(
    database: Database, spec: KindSpec, *, user: User | None, listing_id: uuid.UUID
) -> dict[str, Any]:
    # The hottest read of the service: one query on a plain asyncpg connection, no unit of work.
    async with database.driver_connection() as connection:
        row = await repository.get_visible(connection, spec.model, listing_id, user)
        if row is not None and counts_as_view(spec, row, user):
            assert user is not None
            await repository.record_view(
                connection, spec.kind, listing_id, user.organization_id, today_in_china()
            )
    if row is None:
        raise _not_found(spec)
    return policy.view(spec.kind, row, policy.audience(user, row))


# The listings whose detail views the market statistics count (docs/deals.md).
VIEWED_KINDS = frozenset({"achievement", "demand"})


def counts_as_view(spec: KindSpec, row: Mapping[str, Any], user: User | None) -> bool:
    """A signed-in organization other than the owner reading a published achievement or demand:
    anonymous reads (crawlers), the owner's own and drafts an administrator opens do not count."""
    return (
        user is not None
        and spec.kind in VIEWED_KINDS
        and row["status"] == ListingStatus.published
        and row["owner_organization_id"] != user.organization_id
    )


async def list_(
    database: Database,
    spec: KindSpec,
    *,
    user: User | None,
    criteria: Criteria,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    async with database.driver_connection() as connection:
        rows, total = await repository.list_visible(
            connection, spec.model, user, criteria, sort=sort, limit=limit, offset=offset
        )
    return [policy.view(spec.kind, row, policy.audience(user, row)) for row in rows], total


async def _locked(session: AsyncSession, spec: KindSpec, listing_id: uuid.UUID, user: User) -> ListingColumns:
    listing = await repository.get_for_update(session, spec.model, listing_id, user)
    if listing is None:
        raise _not_found(spec)
    return listing


def check_version(listing: ListingColumns, *, if_match: int | None, body_version: int | None) -> None:
    """If-Match that no longer matches → 412; a stale `version` in the body → 409."""
    if if_match is not None and if_match != listing.version:
        raise PreconditionFailed(extra={"current_version": listing.version})
    if body_version is not None and body_version != listing.version:
        raise Conflict(
            code="version_conflict",
            message_en="The listing was changed by someone else; reload and try again.",
            message_zh="信息已被他人修改，请刷新后重试。",
            errors=[FieldError("version", "stale", "stale version", "版本已过期")],
            extra={"current_version": listing.version},
        )


async def update(
    session: AsyncSession,
    spec: KindSpec,
    *,
    user: User,
    listing_id: uuid.UUID,
    data: BaseModel,
    if_match: int | None = None,
) -> ListingColumns:
    listing = await _locked(session, spec, listing_id, user)
    parties = policy.parties(spec.kind, user, listing)
    if Party.owner not in parties:
        raise _not_yours(spec)
    check_version(listing, if_match=if_match, body_version=getattr(data, "version", None))
    changes = _dump(data, exclude_unset=True, exclude={"version"})
    columns = spec.model.__table__.columns
    _raise(
        [
            FieldError(name, "not_nullable", f"{name} cannot be null", "此项不能为空")
            for name, value in changes.items()
            if value is None and not columns[name].nullable
        ]
    )
    before = {name: getattr(listing, name) for name in changes}
    after = {**{c.key: getattr(listing, c.key) for c in columns}, **changes}
    _raise(check_cross_fields(spec, after))
    changed = diff(before, changes)
    if not changed:
        return listing
    for name, value in changes.items():
        setattr(listing, name, value)
    action = "updated"
    if listing.status == ListingStatus.published:
        _raise(publish_problems(spec, listing, today_in_china()))
    elif listing.status in (ListingStatus.closed, ListingStatus.taken_down, ListingStatus.expired):
        changed["status"] = [listing.status.value, ListingStatus.draft.value]
        listing.status = lifecycle.next_status(listing.status, Action.revise, parties)
        action = "revised"
    listing.version += 1
    await session.flush()
    await record_change(session, actor=user, kind=spec.kind, listing=listing, action=action, changes=changed)
    return listing


async def act(
    session: AsyncSession,
    spec: KindSpec,
    *,
    user: User,
    listing_id: uuid.UUID,
    action: Action,
    reason: str | None = None,
    if_match: int | None = None,
) -> ListingColumns:
    """Publish, close or take down: the lifecycle table decides, this applies and records it."""
    listing = await _locked(session, spec, listing_id, user)
    parties = policy.parties(spec.kind, user, listing)
    if not parties:
        raise _not_yours(spec)
    check_version(listing, if_match=if_match, body_version=None)
    previous = listing.status
    target = lifecycle.next_status(previous, action, parties)
    if action == Action.publish:
        if not (user.organization.verified or user.role == Role.admin):
            raise NotPermitted(
                code="organization_not_verified",
                message_en="Only members of a verified organization may publish.",
                message_zh="机构通过认证后才能发布信息。",
            )
        _raise(publish_problems(spec, listing, today_in_china()))
        listing.published_at = datetime.now(UTC)
        listing.status_reason = None
    if action == Action.take_down:
        listing.status_reason = reason
    listing.status = target
    listing.version += 1
    await session.flush()
    changes: dict[str, Any] = {"status": [previous.value, target.value]}
    if reason:
        changes["reason"] = reason
    await record_change(
        session, actor=user, kind=spec.kind, listing=listing, action=ACTION_NAMES[action], changes=changes
    )
    return listing


async def delete(
    session: AsyncSession, spec: KindSpec, *, user: User, listing_id: uuid.UUID, if_match: int | None = None
) -> None:
    """Never-published drafts may be deleted by their owner; anything published is closed instead."""
    listing = await _locked(session, spec, listing_id, user)
    if Party.owner not in policy.parties(spec.kind, user, listing):
        raise _not_yours(spec)
    check_version(listing, if_match=if_match, body_version=None)
    if listing.status != ListingStatus.draft or listing.published_at is not None:
        raise InvalidTransition(
            message_en="Only a never-published draft can be deleted; close the listing instead.",
            message_zh="只有从未发布的草稿可以删除，已发布的请关闭。",
        )
    await record_change(
        session,
        actor=user,
        kind=spec.kind,
        listing=listing,
        action="deleted",
        changes={"status": ["draft", None]},
    )
    await session.delete(listing)
    await session.flush()


async def expire_listings(session: AsyncSession, *, today: date | None = None) -> dict[str, int]:
    """Expire every published listing whose end date is before `today` (China's date); audited,
    announced."""
    today = today or today_in_china()
    counts = {}
    for spec in KINDS.values():
        if spec.end_date is None:
            continue
        expired = await repository.expire_due(session, spec.model, spec.end_date, today)
        await record_changes_bulk(
            session,
            actor=SystemActor(),
            kind=spec.kind,
            action="expired",
            changes=[
                (listing_id, {"status": ["published", "expired"], spec.end_date: end.isoformat()})
                for listing_id, end in expired
            ],
        )
        counts[spec.kind] = len(expired)
    return counts
