"""All SQL of the accounts domain."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.accounts.models import AuthSession, LoginThrottle, Organization, RefreshToken, User
from app.core.pagination import PageParams, fetch_page


async def get_organization(
    session: AsyncSession, organization_id: uuid.UUID, *, lock: bool = False
) -> Organization | None:
    statement = select(Organization).where(Organization.id == organization_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def get_organization_by_name(session: AsyncSession, name: str) -> Organization | None:
    return (await session.execute(select(Organization).where(Organization.name == name))).scalar_one_or_none()


async def list_organizations(
    session: AsyncSession, page: PageParams, *, verified: bool | None = None, kind: str | None = None
) -> tuple[list[Organization], int]:
    statement = select(Organization)
    if verified is not None:
        statement = statement.where(Organization.verified.is_(verified))
    if kind is not None:
        statement = statement.where(Organization.kind == kind)
    rows, total = await fetch_page(session, statement, page, Organization.created_at.desc(), Organization.id)
    return list(rows.scalars()), total


async def list_users(
    session: AsyncSession,
    page: PageParams,
    *,
    organization_id: uuid.UUID | None = None,
    email: str | None = None,
    active: bool | None = None,
) -> tuple[list[User], int]:
    statement = select(User).options(joinedload(User.organization))
    if organization_id is not None:
        statement = statement.where(User.organization_id == organization_id)
    if email is not None:
        statement = statement.where(User.email == email.lower())
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    rows, total = await fetch_page(session, statement, page, User.created_at.desc(), User.id)
    return list(rows.scalars()), total


async def get_user(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> User | None:
    statement = select(User).options(joinedload(User.organization)).where(User.id == user_id)
    if lock:
        statement = statement.with_for_update(of=User)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    statement = select(User).options(joinedload(User.organization)).where(User.email == email.lower())
    return (await session.execute(statement)).scalar_one_or_none()


async def get_user_in_live_session(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> User | None:
    """The active user behind an access token, provided its sign-in session was not revoked."""
    statement = (
        select(User)
        .options(joinedload(User.organization))
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            User.id == user_id,
            User.is_active.is_(True),
            AuthSession.id == session_id,
            AuthSession.revoked_at.is_(None),
        )
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def count_login_attempt(
    session: AsyncSession, email_digest: str, *, now: datetime, window: timedelta, limit: int
) -> int | None:
    """Count one sign-in attempt for an e-mail, in one statement: concurrent attempts queue on the
    row, so no more than `limit` are ever counted. The attempt's number, or None when `limit` are
    counted already and have not expired (a lockout, or that many still being checked). An
    expired count starts again from one."""
    expired = LoginThrottle.expires_at <= now
    statement = (
        pg_insert(LoginThrottle)
        .values(email_digest=email_digest, attempts=1, expires_at=now + window)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.email_digest],
            set_={
                "attempts": case((expired, 1), else_=LoginThrottle.attempts + 1),
                "expires_at": now + window,
            },
            where=or_(expired, LoginThrottle.attempts < limit),
        )
        .returning(LoginThrottle.attempts)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get_login_lockout_end(session: AsyncSession, email_digest: str) -> datetime | None:
    statement = select(LoginThrottle.expires_at).where(LoginThrottle.email_digest == email_digest)
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_login(session: AsyncSession, email_digest: str, *, until: datetime, limit: int) -> bool:
    """Start the lockout once the attempt that reached the limit failed; False when a success in
    the meantime cleared the count."""
    statement = (
        update(LoginThrottle)
        .where(LoginThrottle.email_digest == email_digest, LoginThrottle.attempts >= limit)
        .values(expires_at=until)
        .returning(LoginThrottle.email_digest)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def clear_login_attempts(session: AsyncSession, email_digest: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email_digest == email_digest))


async def prune_login_throttles(session: AsyncSession, *, now: datetime, batch: int = 2) -> None:
    """Delete a few expired counts. Each attempt adds at most one row and removes up to `batch`,
    so the table holds little more than the e-mails tried within the lockout period, however many
    unknown ones are guessed; rows another attempt holds are skipped, not waited for."""
    expired = (
        select(LoginThrottle.email_digest)
        .where(LoginThrottle.expires_at <= now)
        .order_by(LoginThrottle.expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    await session.execute(delete(LoginThrottle).where(LoginThrottle.email_digest.in_(expired)))


async def get_refresh_token(session: AsyncSession, digest: str) -> tuple[RefreshToken, AuthSession] | None:
    statement = (
        select(RefreshToken, AuthSession)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_digest == digest)
        .with_for_update(of=RefreshToken)
    )
    row = (await session.execute(statement)).one_or_none()
    return (row[0], row[1]) if row else None


async def revoke_user_sessions(
    session: AsyncSession, user_id: uuid.UUID, *, reason: str, now: datetime
) -> list[uuid.UUID]:
    statement = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(AuthSession.id)
    )
    return list((await session.execute(statement)).scalars())


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, *, reason: str, now: datetime) -> bool:
    statement = (
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(AuthSession.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
