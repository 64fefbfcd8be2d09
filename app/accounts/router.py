import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import repository, service
from app.accounts.auth import AdminUser, CurrentUser, OptionalPrincipal
from app.accounts.models import OrganizationKind
from app.accounts.schemas import (
    LogoutRequest,
    OrganizationCreate,
    OrganizationRead,
    RefreshRequest,
    RegistrationRequest,
    TokenResponse,
    UserCreate,
    UserRead,
)
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
organizations_router = APIRouter(prefix="/organizations", tags=["organizations"])


@auth_router.post(
    "/token",
    response_model=TokenResponse,
    responses=problem_responses(401, 403, 422, 429),
    summary="Sign in · 登录",
)
async def issue_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenResponse:
    """Sign in (OAuth2 password flow): form fields `username` (the e-mail) and `password`.

    Returns a short-lived access token and a refresh token. Attempts are counted per e-mail,
    registered or not, before the password is checked: after `TECHEX_LOGIN_MAX_FAILURES` failures
    (or while that many are being checked) the e-mail is refused for a while, 429
    `account_locked` with `Retry-After`. A wrong password, an unknown e-mail and a deactivated
    account all answer 401 `invalid_credentials`; only the right password of a deactivated account
    answers 403 `account_disabled`. 登录。"""
    return await service.login(
        session, email=form.username, password=form.password, settings=request.app.state.settings
    )


@auth_router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=problem_responses(401, 422),
    summary="Refresh the tokens · 刷新令牌",
)
async def refresh_token(request: Request, session: SessionDep, body: RefreshRequest) -> TokenResponse:
    """Exchange a refresh token for a new pair. Each refresh token works once; presenting a used
    one again revokes the whole sign-in session (it was probably stolen). 刷新令牌。"""
    return await service.refresh(
        session, refresh_token=body.refresh_token, settings=request.app.state.settings
    )


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422),
    summary="Sign out · 退出登录",
)
async def logout(
    session: SessionDep, principal: OptionalPrincipal, body: Annotated[LogoutRequest | None, Body()] = None
) -> None:
    """End a sign-in session: the one of the given refresh token, or else the caller's own.
    Its refresh and access tokens stop working at once. 退出登录。"""
    await service.logout(
        session,
        refresh_token=body.refresh_token if body else None,
        user=principal.user if principal else None,
        session_id=principal.claims.session_id if principal else None,
    )


@auth_router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 422),
    summary="Sign up an organization · 机构自助注册",
)
async def register(session: SessionDep, body: RegistrationRequest) -> UserRead:
    """Self-service sign-up of a university, institute, enterprise or agency with its first user.
    The organization may publish only after an administrator verifies it. A guessable password
    (common, repetitive, or made of the e-mail, name or organization) is 422 `weak_password`
    naming `user.password`, with the strength estimator's advice in `password_feedback`. 机构自助注册。"""
    user = await service.register(session, data=body)
    return UserRead.model_validate(user)


@users_router.get(
    "/me",
    response_model=UserRead,
    responses=problem_responses(401),
    summary="Read the signed-in user · 当前用户",
)
async def read_me(user: CurrentUser) -> UserRead:
    """The signed-in user with their organization. 当前用户。"""
    return UserRead.model_validate(user)


@users_router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Create a user · 创建用户",
)
async def create_user(session: SessionDep, admin: AdminUser, body: UserCreate) -> UserRead:
    """Create a user in an existing organization (administrators only), e.g. a registration
    officer. A guessable password is 422 `weak_password` naming `password`. 创建用户。"""
    organization = await service.get_organization(session, organization_id=body.organization_id)
    user = await service.create_user(
        session,
        actor=admin,
        organization=organization,
        email=body.email,
        password=body.password,
        role=body.role,
        full_name=body.full_name,
    )
    return UserRead.model_validate(user)


@users_router.get(
    "",
    response_model=Page[UserRead],
    responses=problem_responses(401, 403, 422),
    summary="List users · 用户列表",
)
async def list_users(
    session: SessionDep,
    _: AdminUser,
    page: PageDep,
    organization_id: Annotated[uuid.UUID | None, Query(description="只看此机构的用户")] = None,
    email: Annotated[
        str | None, Query(max_length=254, pattern=r"^[^\x00-\x1f\x7f]+$", description="按邮箱精确查找")
    ] = None,
    active: Annotated[bool | None, Query(description="只看在用/已停用的用户")] = None,
) -> Page[UserRead]:
    """Users, newest first (administrators only): find one by e-mail or list an organization's. 用户列表。"""
    rows, total = await repository.list_users(
        session, page, organization_id=organization_id, email=email, active=active
    )
    return Page.of([UserRead.model_validate(r) for r in rows], total, page)


@users_router.post(
    "/{user_id}/deactivate",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409),
    summary="Deactivate a user · 停用用户",
)
async def deactivate_user(session: SessionDep, admin: AdminUser, user_id: uuid.UUID) -> UserRead:
    """Deactivate a user (administrators only): they can no longer sign in, their tokens stop
    working at once, and nothing is notified on their behalf; their listings stay. Deactivating
    oneself answers 409 `cannot_deactivate_self`. 停用用户。"""
    user = await service.set_user_active(session, actor=admin, user_id=user_id, active=False)
    return UserRead.model_validate(user)


@users_router.post(
    "/{user_id}/reactivate",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404),
    summary="Reactivate a user · 恢复用户",
)
async def reactivate_user(session: SessionDep, admin: AdminUser, user_id: uuid.UUID) -> UserRead:
    """Reactivate a deactivated user (administrators only); they sign in again. 恢复用户。"""
    user = await service.set_user_active(session, actor=admin, user_id=user_id, active=True)
    return UserRead.model_validate(user)


@organizations_router.get(
    "",
    response_model=Page[OrganizationRead],
    responses=problem_responses(401, 403),
    summary="List organizations · 机构列表",
)
async def list_organizations(
    session: SessionDep,
    _: AdminUser,
    page: PageDep,
    verified: Annotated[bool | None, Query(description="只看已认证/未认证的机构")] = None,
    kind: Annotated[OrganizationKind | None, Query(description="机构类型")] = None,
) -> Page[OrganizationRead]:
    """Organizations, newest first; administrators use `verified=false` as their review queue. 机构列表。"""
    rows, total = await repository.list_organizations(session, page, verified=verified, kind=kind)
    return Page.of([OrganizationRead.model_validate(r) for r in rows], total, page)


@organizations_router.post(
    "",
    response_model=OrganizationRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create an organization · 创建机构",
)
async def create_organization(
    session: SessionDep, admin: AdminUser, body: OrganizationCreate
) -> OrganizationRead:
    """Create an organization of any kind, verified at once (administrators only), e.g. a
    registration office. 创建机构。"""
    organization = await service.create_organization(session, actor=admin, data=body, verified=True)
    return OrganizationRead.model_validate(organization)


@organizations_router.get(
    "/{organization_id}",
    response_model=OrganizationRead,
    responses=problem_responses(401, 404),
    summary="Read one organization · 机构详情",
)
async def read_organization(
    session: SessionDep, _: CurrentUser, organization_id: uuid.UUID
) -> OrganizationRead:
    """One organization. 机构详情。"""
    return OrganizationRead.model_validate(
        await service.get_organization(session, organization_id=organization_id)
    )


@organizations_router.post(
    "/{organization_id}/verify",
    response_model=OrganizationRead,
    responses=problem_responses(401, 403, 404),
    summary="Verify an organization · 认证机构",
)
async def verify_organization(
    session: SessionDep, admin: AdminUser, organization_id: uuid.UUID
) -> OrganizationRead:
    """Mark an organization as verified after checking its documents (administrators only). 认证机构。"""
    organization = await service.verify_organization(session, actor=admin, organization_id=organization_id)
    return OrganizationRead.model_validate(organization)
