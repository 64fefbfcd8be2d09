"""All SQL of the accounts domain."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.accounts.models import AuthSession, Organization, RefreshToken, User
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


async def register_failed_login(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Atomically count one more failure; concurrent guesses cannot slip past the limit."""
    statement = (
        update(User)
        .where(User.id == user_id)
        .values(failed_login_count=User.failed_login_count + 1)
        .returning(User.failed_login_count)
    )
    return (await session.execute(statement)).scalar_one()


async def lock_user(session: AsyncSession, user_id: uuid.UUID, until: datetime) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(locked_until=until, failed_login_count=0)
    )


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
