"""The listing's working-day arithmetic: a period counted in Chinese working days
(app/contracts/calendar.py, with the administrators' table for years `chinese-calendar` does not
know) that ends at the end of its last working day in Asia/Shanghai."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.service import deadline
from app.core import clock
from app.core.types import CHINA
from app.trading.models import ListingAnnouncement
from app.trading.vocabulary import AnnouncementStatus


async def working_days_after(session: AsyncSession, start: date, days: int) -> date:
    """The `days`-th working day after `start` (the start day does not count)."""
    return (await deadline(session, start, days)).due_on


def end_of(day: date) -> datetime:
    """The instant `day` ends in China (midnight starting the next day), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA).astimezone(UTC)


def today() -> date:
    return clock.now().astimezone(CHINA).date()


def is_open(announcement: ListingAnnouncement) -> bool:
    """Whether the announcement takes intentions and changes now: running, its period not run out
    (a period that ran out is closed by the worker, or by the next read, whichever comes first)."""
    return announcement.status is AnnouncementStatus.running and clock.now() < announcement.ends_at


async def start(session: AsyncSession, announcement: ListingAnnouncement, on: date) -> None:
    """(Re)start the period on `on`: it runs `period_working_days` working days from the next one."""
    announcement.period_starts_on = on
    announcement.period_ends_on = await working_days_after(session, on, announcement.period_working_days)
    announcement.ends_at = end_of(announcement.period_ends_on)
