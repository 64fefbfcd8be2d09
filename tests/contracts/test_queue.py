"""The officer's queue (登记员待办): new arrivals head it, with how long they have waited."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.contracts import service
from app.contracts.models import ContractEvent
from app.core.pagination import PageParams
from tests.contracts import helpers
from tests.contracts.helpers import step

CHINA = ZoneInfo("Asia/Shanghai")


async def _entered_at(db: AsyncSession, app_id: str, action: str, when: datetime) -> None:
    """Backdate the event that put an application in its current state."""
    await db.execute(
        update(ContractEvent)
        .where(ContractEvent.application_id == uuid.UUID(app_id), ContractEvent.action == action)
        .values(created_at=when)
    )
    await db.commit()


async def test_new_submissions_and_resubmissions_head_the_queue(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    reviewed = await helpers.under_review(client, w)
    later = await helpers.create(client, w, project_name="后提交的申请")
    await step(client, w.applicant, later["id"], "submit")
    earlier = await helpers.create(client, w, project_name="先提交的申请")
    await step(client, w.applicant, earlier["id"], "submit")
    corrected = await helpers.create(client, w, project_name="补正后重新提交的申请")
    await step(client, w.applicant, corrected["id"], "submit")
    await step(client, w.officer, corrected["id"], "request-correction", {"items": ["合同盖章页"]})
    await step(client, w.applicant, corrected["id"], "resubmit")
    waiting = await helpers.create(client, w, project_name="待补正的申请")  # the applicant's turn
    await step(client, w.applicant, waiting["id"], "submit")
    await step(client, w.officer, waiting["id"], "request-correction", {"items": ["技术附件"]})
    now = datetime.now(CHINA)
    await _entered_at(db, earlier["id"], "submit", now - timedelta(days=3))
    await _entered_at(db, later["id"], "submit", now - timedelta(days=2))

    response = await client.get("/api/v1/contracts/queue", headers=w.officer.headers)
    assert response.status_code == 200, response.text
    queue = response.json()["items"]
    assert [i["id"] for i in queue] == [earlier["id"], later["id"], corrected["id"], reviewed["id"]]
    assert [i["status"] for i in queue] == ["submitted", "submitted", "resubmitted", "under_review"]
    assert response.json()["total"] == 4
    # A page of it, in the same order: the page envelope of every list.
    page = await client.get("/api/v1/contracts/queue?limit=2&offset=1", headers=w.officer.headers)
    assert page.json()["total"] == 4 and (page.json()["limit"], page.json()["offset"]) == (2, 1)
    assert [i["id"] for i in page.json()["items"]] == [later["id"], corrected["id"]]
    first = queue[0]
    # Not accepted yet: no clock runs, so nothing is overdue or due soon.
    assert first["accepted_on"] is None and first["due_on"] is None
    assert first["working_days_left"] is None and not first["overdue"] and not first["due_soon"]
    assert first["waiting_since"].endswith("+08:00")
    assert datetime.fromisoformat(first["waiting_since"]) == now - timedelta(days=3)
    # The resubmission's clock runs from the day the corrected material arrived.
    assert queue[2]["working_days_left"] is not None and queue[2]["working_days_waited"] == 0
    # Another office's officer does not see them.
    assert (await client.get("/api/v1/contracts/queue", headers=w.other_officer.headers)).json()["total"] == 0


async def test_the_wait_is_counted_in_working_days_from_the_day_in_china(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    await step(client, w.applicant, app["id"], "submit")
    # 01:00 on Monday 2 November 2026 in China, still Sunday in UTC.
    await _entered_at(db, app["id"], "submit", datetime(2026, 11, 2, 1, 0, tzinfo=CHINA))
    officer = await db.get(User, w.officer.user_id)
    assert officer is not None
    [item], _ = await service.queue(
        db, user=officer, page=PageParams(limit=10, offset=0), today=date(2026, 11, 9)
    )
    # 3, 4, 5, 6 and 9 November: the weekend does not count, nor the day it arrived.
    assert item.working_days_waited == 5
    assert item.waiting_since == datetime(2026, 11, 2, 1, 0, tzinfo=CHINA)
    [same_day], _ = await service.queue(
        db, user=officer, page=PageParams(limit=10, offset=0), today=date(2026, 11, 2)
    )
    assert same_day.working_days_waited == 0
