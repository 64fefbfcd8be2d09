"""Deadlines set by the workflow: 15 / 30 working days, provisional beyond the official calendar
unless administrators published the year, and whether decisions met them."""

from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.contracts import service, transitions
from app.contracts.workflow import Action
from app.core.config import Settings
from tests.contracts import helpers
from tests.contracts.transitions_large import LARGE


async def _accept_on(
    db: AsyncSession,
    w: helpers.World,
    settings: Settings,
    client: httpx.AsyncClient,
    day: date,
    **overrides: object,
):  # type: ignore[no-untyped-def]
    app = await helpers.create(client, w, **overrides)
    await helpers.step(client, w.applicant, app["id"], "submit")
    officer = await db.get(User, w.officer.user_id)
    assert officer is not None
    accepted = await transitions.act(
        db, user=officer, application_id=app["id"], action=Action.accept, settings=settings, today=day
    )
    await db.commit()
    return officer, accepted


async def test_acceptance_in_2026_is_official(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await helpers.world(client, db)
    _, app = await _accept_on(db, w, settings, client, date(2026, 9, 30))
    assert (app.accepted_on, app.due_on, app.due_provisional) == (
        date(2026, 9, 30),
        date(2026, 10, 27),
        False,
    )


async def test_crossing_into_2027_is_provisional_until_published(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await helpers.world(client, db)
    _, provisional = await _accept_on(db, w, settings, client, date(2026, 12, 21))
    assert provisional.due_on == date(2027, 1, 11) and provisional.due_provisional
    queue = (await client.get("/api/v1/contracts/queue", headers=w.officer.headers)).json()["items"]
    assert queue[0]["due_provisional"] is True

    calendar = {
        "note": "国务院办公厅 2027 年部分节假日安排",
        "days": [
            {"day": "2027-01-01", "working": False, "name": "元旦"},
            {"day": "2027-01-02", "working": False, "name": "元旦"},
            {"day": "2027-01-03", "working": False, "name": "元旦"},
        ],
    }
    assert (
        await client.put("/api/v1/calendar/2027", json=calendar, headers=w.officer.headers)
    ).status_code == 403
    published = await client.put("/api/v1/calendar/2027", json=calendar, headers=w.admin.headers)
    assert published.status_code == 204, published.text
    year = (await client.get("/api/v1/calendar/2027", headers=w.officer.headers)).json()
    assert year["source"] == "administrators" and len(year["days"]) == 3
    assert (await client.get("/api/v1/calendar/2026", headers=w.officer.headers)).json()[
        "source"
    ] == "chinese-calendar"

    _, official = await _accept_on(db, w, settings, client, date(2026, 12, 21))
    assert official.due_on == date(2027, 1, 12) and not official.due_provisional
    # The application accepted before the table was published is counted again with it.
    again = (await client.get(f"/api/v1/contracts/{provisional.id}", headers=w.officer.headers)).json()
    assert (again["due_on"], again["due_provisional"]) == ("2027-01-12", False)


async def test_publishing_a_year_counts_provisional_deadlines_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await helpers.world(client, db)
    officer, decided = await _accept_on(db, w, settings, client, date(2026, 12, 21))
    _, experts = await _accept_on(db, w, settings, client, date(2026, 12, 14), **LARGE)
    for app, action, day, params in (
        (decided, Action.start_review, date(2026, 12, 22), None),
        # decided the day after the provisional deadline (01-11), on the real one (元旦 3 days off)
        (decided, Action.refuse, date(2027, 1, 12), {"reason": "不属于技术合同"}),
        (experts, Action.start_review, date(2026, 12, 15), None),  # large: 30 working days
    ):
        await transitions.act(
            db,
            user=officer,
            application_id=app.id,
            action=action,
            settings=settings,
            params=params,
            today=day,
        )
    await db.commit()
    await db.refresh(decided)
    await db.refresh(experts)
    assert decided.decided_on_time is False and decided.due_provisional
    assert experts.status == "expert_review" and experts.due_provisional
    provisional_expert_due = experts.due_on

    calendar = {"days": [{"day": f"2027-01-0{d}", "working": False, "name": "元旦"} for d in (1, 2, 3)]}
    assert (
        await client.put("/api/v1/calendar/2027", json=calendar, headers=w.admin.headers)
    ).status_code == 204
    await db.refresh(decided)
    await db.refresh(experts)
    assert (decided.due_on, decided.due_provisional, decided.decided_on_time) == (
        date(2027, 1, 12),
        False,
        True,
    )
    expected = await service.deadline(db, date(2026, 12, 14), settings.contract_expert_review_working_days)
    assert (experts.due_on, experts.due_provisional) == (expected.due_on, False)
    assert experts.due_on > provisional_expert_due  # the 30-day clock, not the 15-day one
    stats = (await client.get("/api/v1/stats/deadlines", headers=w.admin.headers)).json()
    assert stats == {"decisions": 1, "on_time": 1, "late": 0}
    recounted = (
        await db.scalars(
            select(AuditEntry.object_id)
            .where(AuditEntry.action == "deadline_recounted")
            .order_by(AuditEntry.id)
        )
    ).all()
    assert sorted(recounted) == sorted([str(decided.id), str(experts.id)])


async def test_expert_review_gets_30_working_days(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await helpers.world(client, db)
    officer, app = await _accept_on(db, w, settings, client, date(2026, 9, 1), **LARGE)
    reviewed = await transitions.act(
        db,
        user=officer,
        application_id=app.id,
        action=Action.start_review,
        settings=settings,
        today=date(2026, 9, 2),
    )
    await db.commit()
    # 30 working days from 09-01 skip 中秋 (09-25) and 国庆 (10-01…10-07) and count the 调休 days
    # 09-20 (Sunday) and 10-10 (Saturday).
    assert reviewed.status == "expert_review"
    assert reviewed.due_on == date(2026, 10, 19) and not reviewed.due_provisional


async def test_decisions_on_time_and_late(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await helpers.world(client, db)
    officer, early = await _accept_on(db, w, settings, client, date(2026, 11, 2))
    _, late = await _accept_on(db, w, settings, client, date(2026, 11, 2))
    for app, decided in ((early, date(2026, 11, 20)), (late, date(2026, 11, 24))):  # due 11-23
        await transitions.act(
            db,
            user=officer,
            application_id=app.id,
            action=Action.start_review,
            settings=settings,
            today=decided,
        )
        await transitions.act(
            db,
            user=officer,
            application_id=app.id,
            action=Action.refuse,
            settings=settings,
            params={"reason": "不属于技术合同"},
            today=decided,
        )
        await db.commit()
    stats = (await client.get("/api/v1/stats/deadlines", headers=w.admin.headers)).json()
    assert stats == {"decisions": 2, "on_time": 1, "late": 1}
