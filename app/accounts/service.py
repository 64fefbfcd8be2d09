"""Rules of organizations, users and sign-in. Services flush; the request commits."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.models import ROLE_ORGANIZATION_KINDS, AuthSession, Organization, RefreshToken, Role, User
from app.accounts.schemas import OrganizationCreate, RegistrationRequest, TokenResponse
from app.audit import service as audit
from app.audit.service import Actor, SystemActor
from app.core.config import Settings, get_settings
from app.core.db import add_unique
from app.core.errors import (
    Conflict,
    FieldError,
    NotFound,
    NotPermitted,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from app.core.security import (
    create_access_token,
    digest_token,
    hash_password,
    needs_rehash,
    new_refresh_token,
    password_weakness,
    verify_password,
)
from app.core.types import CONTROL_CHARACTERS

_UNIQUE_FIELDS = {
    "uq_organizations_name": (
        "organization.name",
        "An organization with this name exists.",
        "该机构名称已存在。",
    ),
    "uq_organizations_credit_code": (
        "organization.credit_code",
        "An organization with this credit code exists.",
        "该统一社会信用代码已注册。",
    ),
    "uq_organizations_city_registration_point": (
        "organization.registration_point",
        "Another registration office of this city has this point number.",
        "本市已有登记机构使用该登记点编号。",
    ),
    "uq_users_email": ("user.email", "This e-mail is already registered.", "该邮箱已注册。"),
}


async def _add_unique(session: AsyncSession, row: Organization | User) -> None:
    """A duplicate name, credit code or e-mail is a 409 naming the field, not a broken transaction."""
    constraint = await add_unique(session, row, *_UNIQUE_FIELDS)
    if constraint is not None:
        field, en, zh = _UNIQUE_FIELDS[constraint]
        raise Conflict(
            code="already_exists",
            message_en=en,
            message_zh=zh,
            errors=[FieldError(field, "already_exists", en, zh)],
        )


def check_role_fits_organization(role: Role, organization: Organization) -> None:
    if organization.kind not in ROLE_ORGANIZATION_KINDS[role]:
        allowed = ", ".join(sorted(ROLE_ORGANIZATION_KINDS[role]))
        raise ValidationFailed(
            code="role_organization_mismatch",
            message_en=f"A {role.value} must belong to an organization of kind {allowed}.",
            message_zh=f"{role.label}只能属于以下类型的机构：{allowed}。",
            errors=[
                FieldError(
                    "role",
                    "role_organization_mismatch",
                    f"not allowed in a {organization.kind}",
                    "角色与机构类型不符",
                )
            ],
        )


async def create_organization(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    data: OrganizationCreate,
    verified: bool = False,
) -> Organization:
    organization = Organization(
        kind=data.kind,
        name=data.name,
        credit_code=data.credit_code,
        region_code=data.region_code,
        registration_point=data.registration_point,
        verified=verified,
        verified_at=datetime.now(UTC) if verified else None,
    )
    await _add_unique(session, organization)
    await audit.record(
        session,
        actor=actor,
        object_type="organization",
        object_id=organization.id,
        action="created",
        changes=data.model_dump() | {"verified": verified},
    )
    return organization


async def check_password_strength(password: str, *, field: str, user_inputs: list[str]) -> None:
    """Refuses a guessable password (zxcvbn's score below `password_min_score`) wherever one is
    set, with the estimator's advice, before anything is hashed or written."""
    weakness = await password_weakness(
        password, user_inputs=user_inputs, min_score=get_settings().password_min_score
    )
    if weakness is None:
        return
    advice = " ".join(filter(None, [weakness.warning, *weakness.suggestions]))
    raise ValidationFailed(
        code="weak_password",
        message_en="The password is too easy to guess; choose another.",
        message_zh="密码过于简单、容易被猜到，请另选一个。",
        errors=[
            FieldError(
                field,
                "weak_password",
                f"Too easy to guess (strength {weakness.score} of 4). {advice}".strip(),
                f"密码过于简单（强度 {weakness.score}/4），请避免常见密码、重复或连续字符、"
                f"邮箱、姓名和机构名称。{advice}".strip(),
            )
        ],
        extra={
            "password_feedback": {
                "score": weakness.score,
                "warning": weakness.warning,
                "suggestions": weakness.suggestions,
            }
        },
    )


async def create_user(
    session: AsyncSession,
    *,
    actor: Actor | SystemActor | None,
    organization: Organization,
    email: str,
    password: str,
    role: Role,
    full_name: str = "",
    input_prefix: str = "",
) -> User:
    """`input_prefix` is where the caller's input holds the user (`user.` in a sign-up), so that a
    422 names the field as the caller sent it."""
    check_role_fits_organization(role, organization)
    await check_password_strength(
        password, field=f"{input_prefix}password", user_inputs=[email, full_name, organization.name]
    )
    user = User(
        email=email.lower(),
        password_hash=await hash_password(password),
        full_name=full_name,
        role=role,
        organization_id=organization.id,
        organization=organization,
    )
    await _add_unique(session, user)
    await audit.record(
        session,
        actor=actor,
        object_type="user",
        object_id=user.id,
        action="created",
        changes={"email": user.email, "role": role, "organization_id": organization.id},
    )
    return user


async def register(session: AsyncSession, *, data: RegistrationRequest) -> User:
    organization = await create_organization(
        session, actor=None, data=OrganizationCreate(**data.organization.model_dump())
    )
    return await create_user(
        session,
        actor=None,
        organization=organization,
        email=data.user.email,
        password=data.user.password,
        role=Role.member,
        full_name=data.user.full_name,
        input_prefix="user.",
    )


async def get_organization(session: AsyncSession, *, organization_id: uuid.UUID) -> Organization:
    organization = await repository.get_organization(session, organization_id)
    if organization is None:
        raise NotFound(message_en="No such organization.", message_zh="机构不存在。")
    return organization


async def verify_organization(
    session: AsyncSession, *, actor: User | SystemActor, organization_id: uuid.UUID
) -> Organization:
    """By an administrator, or by an operator's command (`techex create-user --verified`)."""
    organization = await repository.get_organization(session, organization_id, lock=True)
    if organization is None:
        raise NotFound(message_en="No such organization.", message_zh="机构不存在。")
    if organization.verified:
        return organization  # idempotent: verifying twice changes nothing and logs nothing
    organization.verified = True
    organization.verified_at = datetime.now(UTC)
    organization.verified_by_id = actor.id
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        object_type="organization",
        object_id=organization.id,
        action="verified",
        changes={"verified": [False, True]},
    )
    return organization


async def set_user_active(session: AsyncSession, *, actor: User, user_id: uuid.UUID, active: bool) -> User:
    """Deactivate a user (someone who left their organization, a misused account) or reactivate
    one. A deactivated user cannot sign in, their access tokens stop working at once and their
    sign-in sessions end — reactivated, they sign in again — and nothing is notified on their
    behalf (app/matching/subscriptions.py). Their listings stay: they are their organization's.
    An administrator cannot deactivate themselves, or the exchange could be left without one."""
    user = await repository.get_user(session, user_id, lock=True)
    if user is None:
        raise NotFound(message_en="No such user.", message_zh="用户不存在。")
    if user.is_active == active:
        return user  # idempotent: nothing changes, nothing is logged
    if user.id == actor.id:
        raise Conflict(
            code="cannot_deactivate_self",
            message_en="Administrators cannot deactivate their own account.",
            message_zh="管理员不能停用自己的账号。",
        )
    user.is_active = active
    changes: dict[str, object] = {"is_active": [not active, active]}
    if not active:
        ended = await repository.revoke_user_sessions(
            session, user.id, reason="deactivated", now=datetime.now(UTC)
        )
        changes["sessions_ended"] = len(ended)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        object_type="user",
        object_id=user.id,
        action="reactivated" if active else "deactivated",
        changes=changes,
    )
    return user


# --- sign-in -------------------------------------------------------------------------------------

_INVALID_CREDENTIALS = Unauthenticated(
    code="invalid_credentials",
    message_en="Wrong e-mail or password.",
    message_zh="邮箱或密码错误。",
)


def _locked(until: datetime | None, now: datetime) -> TooManyRequests:
    seconds = max(1, int(((until or now) - now).total_seconds()) + 1)
    return TooManyRequests(
        code="account_locked",
        message_en=f"Too many failed sign-ins; try again in {seconds} seconds.",
        message_zh=f"登录失败次数过多，请 {seconds} 秒后再试。",
        headers={"Retry-After": str(seconds)},
    )


async def _lock_out(
    session: AsyncSession, *, email_digest: str, user: User | None, settings: Settings
) -> None:
    """The attempt that reached the limit failed: the lockout runs from now."""
    until = datetime.now(UTC) + timedelta(seconds=settings.login_lockout_seconds)
    if await repository.lock_login(session, email_digest, until=until, limit=settings.login_max_failures):
        await audit.record(
            session,
            actor=None,
            object_type="user" if user else "login_throttle",
            object_id=user.id if user else email_digest,
            action="locked_out",
            changes={"failed_logins": settings.login_max_failures, "locked_until": until},
        )
    await _commit_before_failing(session)


async def _commit_before_failing(session: AsyncSession) -> None:
    """Commit what must outlive the request that is about to fail (and be rolled back): on the
    request's own session, never a second connection — one request holding two deadlocked the pool
    when as many arrived at once as it has connections, each holding one and waiting for another."""
    await session.commit()


async def _issue_tokens(
    session: AsyncSession, *, user: User, auth_session_id: uuid.UUID, settings: Settings, now: datetime
) -> TokenResponse:
    assert settings.secret_key is not None
    refresh_ttl = timedelta(days=settings.refresh_token_days)
    refresh_token = new_refresh_token()
    session.add(
        RefreshToken(
            session_id=auth_session_id, token_digest=digest_token(refresh_token), expires_at=now + refresh_ttl
        )
    )
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    access_token, _ = create_access_token(
        user_id=user.id,
        session_id=auth_session_id,
        secret=settings.secret_key.get_secret_value(),
        ttl=access_ttl,
        now=now,
    )
    await session.flush()
    return TokenResponse(
        access_token=access_token,
        expires_in=int(access_ttl.total_seconds()),
        refresh_token=refresh_token,
        refresh_expires_in=int(refresh_ttl.total_seconds()),
    )


async def login(session: AsyncSession, *, email: str, password: str, settings: Settings) -> TokenResponse:
    email = email.strip()
    if CONTROL_CHARACTERS.search(email):  # no registered e-mail holds one
        raise ValidationFailed(
            errors=[
                FieldError(
                    "username",
                    "control_character",
                    "The e-mail must not contain control characters.",
                    "邮箱不能包含控制字符。",
                )
            ]
        )
    now = datetime.now(UTC)
    # Counted, and committed, before the password is checked: however many guesses arrive at once,
    # no more than the limit are checked. Counted per e-mail whether or not an account has it, and
    # an unknown e-mail is checked against a dummy hash, so that until the password is right an
    # unknown, a wrong and a deactivated account answer alike, in the same time.
    email_digest = digest_token(email.lower())
    attempt = await repository.count_login_attempt(
        session,
        email_digest,
        now=now,
        window=timedelta(seconds=settings.login_lockout_seconds),
        limit=settings.login_max_failures,
    )
    if attempt is None:
        raise _locked(await repository.get_login_lockout_end(session, email_digest), now)
    await repository.prune_login_throttles(session, now=now)
    user = await repository.get_user_by_email(session, email)
    # Ends the transaction: the connection goes back to the pool while argon2 works in a thread.
    await session.commit()
    if not await verify_password(password, user.password_hash if user else None):
        if attempt >= settings.login_max_failures:
            await _lock_out(session, email_digest=email_digest, user=user, settings=settings)
        raise _INVALID_CREDENTIALS
    assert user is not None
    await repository.clear_login_attempts(session, email_digest)
    if not user.is_active:
        # The password proves the owner, who may learn why; the count is cleared all the same.
        await _commit_before_failing(session)
        raise NotPermitted(
            code="account_disabled", message_en="This account is disabled.", message_zh="该账号已停用。"
        )

    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    auth_session = AuthSession(user_id=user.id)
    session.add(auth_session)
    await session.flush()
    await audit.record(
        session, actor=user, object_type="auth_session", object_id=auth_session.id, action="signed_in"
    )
    return await _issue_tokens(
        session, user=user, auth_session_id=auth_session.id, settings=settings, now=now
    )


_INVALID_REFRESH = Unauthenticated(
    code="invalid_refresh_token",
    message_en="The refresh token is invalid, expired or revoked; sign in again.",
    message_zh="刷新令牌无效、已过期或已撤销，请重新登录。",
)


async def refresh(session: AsyncSession, *, refresh_token: str, settings: Settings) -> TokenResponse:
    now = datetime.now(UTC)
    found = await repository.get_refresh_token(session, digest_token(refresh_token))
    if found is None:
        raise _INVALID_REFRESH
    token, auth_session = found
    if auth_session.revoked_at is not None or token.expires_at <= now:
        raise _INVALID_REFRESH
    if token.used_at is not None:
        # A rotated token came back: someone holds a copy. End the whole session; the revocation
        # survives this request's failure.
        await repository.revoke_session(session, auth_session.id, reason="refresh_reuse", now=now)
        await audit.record(
            session,
            actor=None,
            object_type="auth_session",
            object_id=auth_session.id,
            action="revoked",
            changes={"reason": "refresh_reuse"},
        )
        await _commit_before_failing(session)
        raise _INVALID_REFRESH
    user = await repository.get_user(session, auth_session.user_id)
    if user is None or not user.is_active:
        raise _INVALID_REFRESH
    token.used_at = now
    await audit.record(
        session, actor=user, object_type="auth_session", object_id=auth_session.id, action="refreshed"
    )
    return await _issue_tokens(
        session, user=user, auth_session_id=auth_session.id, settings=settings, now=now
    )


async def logout(
    session: AsyncSession, *, refresh_token: str | None, user: User | None, session_id: uuid.UUID | None
) -> None:
    """Ends the sign-in session named by the refresh token or by the caller's access token."""
    now = datetime.now(UTC)
    if refresh_token is not None:
        found = await repository.get_refresh_token(session, digest_token(refresh_token))
        if found is None:
            raise _INVALID_REFRESH
        session_id = found[1].id
        owner_id = found[1].user_id
    elif user is not None and session_id is not None:
        owner_id = user.id
    else:
        raise Unauthenticated()
    if await repository.revoke_session(session, session_id, reason="logout", now=now):
        await audit.record(
            session,
            actor=user,
            object_type="auth_session",
            object_id=session_id,
            action="revoked",
            changes={"reason": "logout", "user_id": owner_id},
        )
