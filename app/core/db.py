"""Engine, sessions and the declarative base shared by every domain."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, ClassVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.errors import DatabaseUnavailable

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
    """One engine and its session factory, and an asyncpg pool for the hottest reads."""

    def __init__(self, engine: AsyncEngine, *, pool_size: int = 10, application_name: str = "techex") -> None:
        self.engine = engine
        self._application_name = application_name
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._pool_size = pool_size
        self._reads: asyncpg.Pool | None = None
        self._reads_lock = asyncio.Lock()

    @classmethod
    def from_url(
        cls, url: str, *, pool_size: int = 10, echo: bool = False, application_name: str = "techex"
    ) -> "Database":
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: with asyncpg it costs BEGIN, a query and ROLLBACK on every checkout,
            # three round trips before the request's own query. Disconnects are handled
            # optimistically instead: the failing request answers 503 (errors.py), SQLAlchemy
            # invalidates the whole pool, and the next request connects afresh.
            pool_pre_ping=False,
            echo=echo,
            connect_args={"server_settings": _server_settings(application_name)},
        )
        return cls(engine, pool_size=pool_size, application_name=application_name)

    async def _read_pool(self) -> asyncpg.Pool:
        if self._reads is None:
            async with self._reads_lock:
                if self._reads is None:
                    _, connect = self.engine.dialect.create_connect_args(self.engine.url)
                    self._reads = await asyncpg.create_pool(
                        **connect,
                        min_size=1,
                        max_size=self._pool_size,
                        server_settings=_server_settings(self._application_name),
                        init=_json_codecs,
                    )
        return self._reads

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A plain asyncpg connection for the hottest reads (the detail page): SQLAlchemy's async
        layer costs several times the query itself (docs/benchmarks.md). Autocommit, no ORM; the
        pool reconnects dead connections when they are acquired, and a connection lost during the
        query answers 503."""
        pool = await self._read_pool()
        async with pool.acquire() as connection:
            try:
                yield connection
            except _CONNECTION_LOST as error:
                # A connection killed while idle in the pool can fail its next query with a
                # protocol error rather than look closed; drop it, so the pool opens a new one.
                connection.terminate()
                raise DatabaseUnavailable() from error

    async def dispose(self) -> None:
        if self._reads is not None:
            await self._reads.close()
            self._reads = None
        await self.engine.dispose()


_CONNECTION_LOST = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    ConnectionError,
)


async def _json_codecs(connection: asyncpg.Connection) -> None:
    # JSON in and out as Python values, as SQLAlchemy's dialect sets up on its own connections.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _server_settings(application_name: str) -> dict[str, str]:
    return {"timezone": "UTC", "application_name": application_name}


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
            # An anonymous read never touches its session: skip the commit's greenlet round.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                await session.commit()


async def _database(request: Request) -> Database:
    return request.app.state.database


SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# For reads outside the request's unit of work, on the plain asyncpg pool (the listing detail).
DatabaseDep = Annotated[Database, Depends(_database)]


def unique_violation(exc: IntegrityError) -> str | None:
    """The name of the unique constraint an INSERT/UPDATE hit, or None for other integrity errors."""
    cause = getattr(exc.orig, "__cause__", None)
    if getattr(cause, "sqlstate", None) == "23505":
        return getattr(cause, "constraint_name", None)
    return None


async def add_unique(session: AsyncSession, row: object, *constraints: str) -> str | None:
    """Add `row` and flush it in a savepoint. If it breaks one of the named unique constraints —
    the same thing exists, perhaps created a moment ago by a concurrent request that passed the
    same checks — the savepoint is rolled back, the session stays usable and the constraint's name
    is returned for the caller's 409; any other error propagates. The row is added inside the
    savepoint: `begin_nested` flushes what is pending before it starts."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        constraint = unique_violation(exc)
        if constraint not in constraints:
            raise
        return constraint
    return None
