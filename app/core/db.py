"""Engine, sessions and the declarative base shared by every domain."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, ClassVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names let Alembic autogenerate and later migrations refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True)}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Database:
    """One engine and its session factory."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10, echo: bool = False) -> "Database":
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
            connect_args={"server_settings": {"timezone": "UTC", "application_name": "techex"}},
        )
        return cls(engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once when the endpoint returns, rolled back on any error.

    `scope="function"` runs the commit before the response is sent, so a failed commit becomes an
    error response rather than a 200 for data that was never stored.
    """
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def _database(request: Request) -> Database:
    return request.app.state.database


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# For the rare write that must survive the request's rollback (a failed-login counter, a revoked token).
DatabaseDep = Annotated[Database, Depends(_database)]


def unique_violation(exc: IntegrityError) -> str | None:
    """The name of the unique constraint an INSERT/UPDATE hit, or None for other integrity errors."""
    cause = getattr(exc.orig, "__cause__", None)
    if getattr(cause, "sqlstate", None) == "23505":
        return getattr(cause, "constraint_name", None)
    return None
