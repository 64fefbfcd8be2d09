"""The one pagination convention of every list endpoint: `limit` + `offset`, answered with `total`."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Result, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


async def _page_params(
    request: Request,
    limit: Annotated[
        int | None, Query(ge=1, description="每页条数 / page size (capped by the server)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过的条数 / items to skip")] = 0,
) -> PageParams:
    settings = request.app.state.settings
    return PageParams(limit=min(limit or settings.page_size_default, settings.page_size_max), offset=offset)


PageDep = Annotated[PageParams, Depends(_page_params)]


async def fetch_page(
    session: AsyncSession, statement: Select[Any], page: PageParams, *order_by: ColumnElement[Any]
) -> tuple[Result[Any], int]:
    """One page of the statement's rows in this order, and how many rows it selects in all."""
    total = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
    rows = await session.execute(statement.order_by(*order_by).limit(page.limit).offset(page.offset))
    return rows, total


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], total: int, params: PageParams) -> "Page[T]":
        return cls(items=list(items), total=total, limit=params.limit, offset=params.offset)
