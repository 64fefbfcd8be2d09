"""The holiday table administrators maintain for years `chinese-calendar` does not know yet."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.auth import AdminUser, CurrentUser
from app.accounts.models import User
from app.audit import service as audit
from app.contracts.calendar import WorkingCalendar
from app.contracts.models import CalendarDay, CalendarYear
from app.contracts.repository import admin_calendar
from app.contracts.service import recount_provisional_deadlines
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.types import SafeText

router = APIRouter(prefix="/calendar", tags=["calendar"])
Year = Annotated[int, Path(ge=2000, le=2100)]


class ExceptionalDay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    working: bool = Field(description="true: a 调休 working weekend day; false: a holiday")
    name: Annotated[SafeText, StringConstraints(max_length=50)] = ""


class YearCalendar(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[SafeText, StringConstraints(max_length=200)] = ""
    days: list[ExceptionalDay] = Field(max_length=366)


class YearCalendarRead(BaseModel):
    year: int
    source: str = Field(description="chinese-calendar, administrators or weekdays (provisional)")
    days: list[ExceptionalDay]


async def publish_year(
    session: AsyncSession, *, user: User, year: int, data: YearCalendar, settings: Settings
) -> None:
    """Store the year's exceptional days, then count again the deadlines that were counted
    Monday–Friday for want of them."""
    if len({d.day for d in data.days}) != len(data.days):
        from app.core.errors import FieldError, ValidationFailed

        raise ValidationFailed(
            errors=[
                FieldError("days", "duplicate_day", "Each day may appear once.", "每个日期只能出现一次。")
            ]
        )
    if any(d.day.year != year for d in data.days):
        from app.core.errors import FieldError, ValidationFailed

        raise ValidationFailed(
            errors=[
                FieldError(
                    "days", "wrong_year", f"Every day must be in {year}.", f"所有日期须在 {year} 年内。"
                )
            ]
        )
    before = await admin_calendar(session, [year])
    await session.execute(
        insert(CalendarYear)
        .values(year=year, note=data.note)
        .on_conflict_do_update(index_elements=["year"], set_={"note": data.note})
    )
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    for d in sorted(data.days, key=lambda d: d.day):
        session.add(CalendarDay(day=d.day, year=year, is_working_day=d.working, name=d.name))
    await audit.record(
        session,
        actor=user,
        object_type="calendar_year",
        object_id=year,
        action="publish",
        changes={
            "before": {k.isoformat(): v for k, v in before.get(year, {}).items()},
            "after": {d.day.isoformat(): d.working for d in data.days},
        },
    )
    await session.flush()
    await recount_provisional_deadlines(session, user=user, settings=settings)


@router.put(
    "/{year}",
    status_code=204,
    responses=problem_responses(401, 403, 422),
    summary="Publish a year's working calendar · 发布年度工作日历",
)
async def put_year(
    request: Request, session: SessionDep, admin: AdminUser, year: Year, body: YearCalendar
) -> None:
    """Publish a year's holidays and 调休 working days (administrators). Used for deadlines in years
    the bundled official calendar does not cover; other days follow Monday–Friday. Deadlines counted
    Monday–Friday for want of this table (`due_provisional`) are counted again at once."""
    await publish_year(session, user=admin, year=year, data=body, settings=request.app.state.settings)


@router.get(
    "/{year}",
    response_model=YearCalendarRead,
    responses=problem_responses(401),
    summary="Read a year's working calendar · 年度工作日历",
)
async def get_year(session: SessionDep, _: CurrentUser, year: Year) -> YearCalendarRead:
    """Which source decides the working days of a year, and its exceptional days."""
    probe = WorkingCalendar().is_working_day(date(year, 6, 1))
    if not probe[1]:
        return YearCalendarRead(year=year, source="chinese-calendar", days=[])
    rows = (
        await session.execute(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day))
    ).scalars()
    published = await admin_calendar(session, [year])
    if year not in published:
        return YearCalendarRead(year=year, source="weekdays (provisional)", days=[])
    return YearCalendarRead(
        year=year,
        source="administrators",
        days=[ExceptionalDay(day=r.day, working=r.is_working_day, name=r.name) for r in rows],
    )
