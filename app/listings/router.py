"""`/api/v1/{achievements,demands,experts,agencies}`: one router per kind, built from its spec.
Routers parse, authorise and present; `service` holds the rules."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.auth import OPTIONAL_READER_SECURITY, AdminUser, CurrentUser, OptionalUser, optional_reader
from app.accounts.models import User
from app.core.db import DatabaseDep, SessionDep
from app.core.errors import FieldError, ValidationFailed, problem_responses
from app.core.etags import if_match_version
from app.core.pagination import Page, PageDep
from app.listings import policy, repository, service
from app.listings.files import add_file_routes
from app.listings.filters import Common, Criteria, common_params
from app.listings.kinds import KINDS, KindSpec
from app.listings.lifecycle import Action
from app.listings.models import ListingColumns
from app.listings.schemas import TakeDown

VISIBILITY = """
**Who sees what.** Anonymous callers and members of unverified organizations see published
listings only, without contacts, expert phone/e-mail, or the owner of a confidential demand.
Members of verified organizations also see contacts and expert phone/e-mail. The owning
organization (for experts, the expert's own account) and administrators see everything,
drafts included. Hidden fields are `null`."""

CONCURRENCY = """
**Concurrent edits.** Responses carry `ETag: "<version>"`. Send it back as `If-Match` (a mismatch
answers 412) or put `version` in the body (a mismatch answers 409); either way nothing is overwritten."""


async def _if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description='ETag read earlier, e.g. "3"')
    ] = None,
) -> int | None:
    try:
        return if_match_version(if_match)
    except ValueError:
        raise ValidationFailed(
            errors=[FieldError("If-Match", "invalid", 'expected an ETag such as "3"', '应为 ETag，如 "3"')]
        ) from None


IfMatch = Annotated[int | None, Depends(_if_match)]


async def present(
    session: AsyncSession, spec: KindSpec, user: User | None, listing: ListingColumns, response: Response
) -> dict[str, Any]:
    response.headers["ETag"] = f'"{listing.version}"'
    owner_name = await repository.owner_name(session, listing.owner_organization_id)
    return policy.view(spec.kind, listing, policy.audience(user, listing), owner_name=owner_name)


def build_router(spec: KindSpec) -> APIRouter:
    router = APIRouter(prefix=f"/{spec.path}", tags=[f"{spec.path} · {spec.label_zh}"])
    create_schema: type[BaseModel] = spec.create
    update_schema: type[BaseModel] = spec.update
    read_schema: type[BaseModel] = spec.read
    read_adapter = TypeAdapter(read_schema)
    label, kind = spec.label_zh, spec.kind
    required = "、".join(spec.required_to_publish)
    add_file_routes(router, spec)

    # The detail right after the export (`/export` must precede `/{listing_id}`): FastAPI tries
    # the routes in order, twice per request, and the detail is the busiest of them.
    @router.get(
        "/{listing_id}",
        response_model=read_schema,
        responses=problem_responses(404, 422),
        summary=f"Read one {kind} · {label}详情",
        description=VISIBILITY,
        openapi_extra=OPTIONAL_READER_SECURITY,
    )
    async def read(request: Request, listing_id: uuid.UUID) -> Response:
        # The hottest route of the service, so it skips what FastAPI would do per request on top of
        # the work itself (docs/benchmarks.md): no dependencies to solve (the caller and the
        # database are looked up directly), and the body is validated and rendered against the
        # read schema as `response_model` would, in one step, without a Response parameter.
        user = await optional_reader(request)
        data = await service.get(request.app.state.database, spec, user=user, listing_id=listing_id)
        body = read_adapter.dump_json(read_adapter.validate_python(data), by_alias=True)
        return Response(body, media_type="application/json", headers={"ETag": f'"{data["version"]}"'})

    @router.post(
        "",
        response_model=read_schema,
        status_code=status.HTTP_201_CREATED,
        responses=problem_responses(401, 403, 409, 422),
        summary=f"Create {spec.a_kind} draft · 新建{label}",
        description=f"Creates a draft {kind} owned by the caller's organization; publish it with "
        f"`POST /{spec.path}/{{id}}/publish` (needs {required}). Answers 201 with the new `id`.",
    )
    async def create(session: SessionDep, user: CurrentUser, body: create_schema, response: Response) -> Any:  # type: ignore[valid-type]
        listing = await service.create(session, spec, user=user, data=body)
        response.headers["Location"] = f"/api/v1/{spec.path}/{listing.id}"
        return await present(session, spec, user, listing, response)

    @router.get(
        "",
        response_model=Page[read_schema],  # type: ignore[valid-type]
        responses=problem_responses(422),
        summary=f"List {spec.path} · {label}列表",
        description=f"Exact filters, stable order (the sort key, then id), common pagination.\n{VISIBILITY}",
    )
    async def list_(
        database: DatabaseDep,
        user: OptionalUser,
        page: PageDep,
        common: Annotated[Common, Depends(common_params)],
        criteria: Annotated[Criteria, Depends(spec.filters)],
    ) -> Any:
        items, total = await service.list_(
            database,
            spec,
            user=user,
            criteria={**common.criteria(user), **criteria},
            sort=common.sort,
            limit=page.limit,
            offset=page.offset,
        )
        return Page.of(items, total, page)

    @router.patch(
        "/{listing_id}",
        response_model=read_schema,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
        summary=f"Edit {spec.a_kind} · 修改{label}",
        description="Owners only; send just the fields to change. Editing a closed, taken-down or expired "
        f"listing returns it to draft, to be published again.\n{CONCURRENCY}",
    )
    async def edit(
        session: SessionDep,
        user: CurrentUser,
        listing_id: uuid.UUID,
        body: update_schema,  # type: ignore[valid-type]
        if_match: IfMatch,
        response: Response,
    ) -> Any:
        listing = await service.update(
            session, spec, user=user, listing_id=listing_id, data=body, if_match=if_match
        )
        return await present(session, spec, user, listing, response)

    @router.delete(
        "/{listing_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
        summary=f"Delete a never-published {kind} draft · 删除{label}草稿",
        description="Owners only: a draft that was never published is deleted for good (audited). "
        "A listing once published cannot be deleted (409 `invalid_transition`): close it instead. "
        "只能删除从未发布的草稿；已发布过的请关闭。",
    )
    async def delete(
        session: SessionDep, user: CurrentUser, listing_id: uuid.UUID, if_match: IfMatch
    ) -> None:
        await service.delete(session, spec, user=user, listing_id=listing_id, if_match=if_match)

    def lifecycle_route(action: Action, path: str, summary: str, description: str) -> None:
        @router.post(
            f"/{{listing_id}}/{path}",
            response_model=read_schema,
            responses=problem_responses(401, 403, 404, 409, 412, 422),
            summary=summary,
            description=description,
            name=f"{action.value}_{kind}",
        )
        async def transition(
            session: SessionDep,
            user: CurrentUser,
            listing_id: uuid.UUID,
            if_match: IfMatch,
            response: Response,
        ) -> Any:
            listing = await service.act(
                session, spec, user=user, listing_id=listing_id, action=action, if_match=if_match
            )
            return await present(session, spec, user, listing, response)

    lifecycle_route(
        Action.publish,
        "publish",
        f"Publish {spec.a_kind} · 发布{label}",
        f"Owners who are members of a verified organization; needs {required}, and an end date "
        "(if any) not in the past. Draft → published.",
    )
    lifecycle_route(
        Action.close, "close", f"Close {spec.a_kind} · 关闭{label}", "Owners; published → closed."
    )

    @router.post(
        "/{listing_id}/take-down",
        response_model=read_schema,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
        summary=f"Take {spec.a_kind} down · 下架{label}",
        description="Administrators only, with a reason the owner sees; published → taken_down.",
    )
    async def take_down(
        session: SessionDep,
        admin: AdminUser,
        listing_id: uuid.UUID,
        body: TakeDown,
        if_match: IfMatch,
        response: Response,
    ) -> Any:
        listing = await service.act(
            session,
            spec,
            user=admin,
            listing_id=listing_id,
            action=Action.take_down,
            reason=body.reason,
            if_match=if_match,
        )
        return await present(session, spec, admin, listing, response)

    return router


routers = tuple(build_router(spec) for spec in KINDS.values())
