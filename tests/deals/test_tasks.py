"""Notes and next-step tasks on a deal, and each broker's overdue list."""

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.core.types import today_in_china
from app.deals.models import DealTask
from app.deals.vocabulary import DealStage
from tests.contracts.helpers import person
from tests.deals.factory import deal_at, deal_world, move


async def test_every_side_writes_notes_and_a_stranger_cannot(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.diligence)
    url = f"/api/v1/deals/{deal.id}/notes"
    for i, who in enumerate((w.seller, w.buyer, w.broker, w.admin)):
        written = await client.post(url, json={"body": f"第 {i} 次沟通纪要"}, headers=who.headers)
        assert written.status_code == 201, written.text
        assert written.json()["author_id"] == str(who.user_id)
    assert (await client.post(url, json={"body": "窥探"}, headers=w.outsider.headers)).status_code == 404
    assert (await client.get(url, headers=w.outsider.headers)).status_code == 404
    listed = (await client.get(url, headers=w.buyer.headers)).json()
    assert listed["total"] == 4 and listed["items"][0]["body"] == "第 3 次沟通纪要"
    empty = await client.post(url, json={"body": "  "}, headers=w.seller.headers)
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "body")
    audited = await db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.object_id == str(deal.id), AuditEntry.action == "note")
    )
    assert audited == 4


async def test_tasks_are_due_from_today_for_someone_on_the_deal_and_done_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    url = f"/api/v1/deals/{deal.id}/tasks"
    today = today_in_china()
    task = await client.post(
        url, json={"title": "寄送评估报告", "due_on": today.isoformat()}, headers=w.seller.headers
    )
    assert task.status_code == 201, task.text
    assert task.json()["assignee_id"] == str(w.broker.user_id)  # the broker by default
    past = await client.post(
        url,
        json={"title": "补交材料", "due_on": (today - timedelta(days=1)).isoformat()},
        headers=w.seller.headers,
    )
    assert (past.status_code, past.json()["errors"][0]["code"]) == (422, "in_the_past")
    stranger = await client.post(
        url,
        json={"title": "x", "due_on": today.isoformat(), "assignee_id": str(w.outsider.user_id)},
        headers=w.broker.headers,
    )
    assert (stranger.status_code, stranger.json()["errors"][0]["field"]) == (422, "assignee_id")
    assert (
        await client.post(url, json={"title": "x", "due_on": today.isoformat()}, headers=w.outsider.headers)
    ).status_code == 404

    done_url = f"{url}/{task.json()['id']}/done"
    done = await client.post(done_url, headers=w.buyer.headers)
    assert done.status_code == 200 and done.json()["done_at"].endswith("+08:00")
    again = await client.post(done_url, headers=w.broker.headers)
    assert (again.status_code, again.json()["code"]) == (409, "task_done")
    assert (await client.post(done_url, headers=w.outsider.headers)).status_code == 404
    listed = (await client.get(url, headers=w.admin.headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["done_at"] is not None

    assert (await move(client, w.buyer, deal.id, DealStage.lost, reason="预算取消")).status_code == 200
    closed = await client.post(
        url, json={"title": "x", "due_on": today.isoformat()}, headers=w.broker.headers
    )
    assert (closed.status_code, closed.json()["code"]) == (409, "deal_closed")


async def test_each_broker_sees_their_own_overdue_tasks(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.negotiating)
    lost = await deal_at(db, await deal_world(client, db), DealStage.lost)
    other_broker = await person(client, db, Role.tech_manager, w.agency)
    today = today_in_china()

    def task(title: str, days_ago: int, assignee: object, **fields: object) -> DealTask:
        return DealTask(
            deal_id=fields.pop("deal_id", deal.id),
            title=title,
            due_on=today - timedelta(days=days_ago),
            assignee_id=assignee,
            **fields,
        )

    db.add_all(
        [
            task("催签保密承诺", 3, w.broker.user_id),
            task("约见买方技术负责人", 10, w.broker.user_id),
            task("今天到期", 0, w.broker.user_id),
            task("已完成", 5, w.broker.user_id, done_at=datetime.now(UTC)),
            task("别人的任务", 5, other_broker.user_id),
            task("已终止项目的任务", 5, lost.broker_user_id, deal_id=lost.id),
        ]
    )
    await db.commit()
    mine = await client.get("/api/v1/deals/tasks/overdue", headers=w.broker.headers)
    assert mine.status_code == 200, mine.text
    assert [(t["title"], t["days_overdue"], t["deal_title"]) for t in mine.json()["items"]] == [
        ("约见买方技术负责人", 10, deal.title),
        ("催签保密承诺", 3, deal.title),
    ]
    # The other broker no longer sees the deal (not its broker), so not its task either.
    assert (await client.get("/api/v1/deals/tasks/overdue", headers=other_broker.headers)).json()[
        "total"
    ] == 0
    as_admin = await client.get(
        "/api/v1/deals/tasks/overdue", params={"broker_id": str(w.broker.user_id)}, headers=w.admin.headers
    )
    assert as_admin.json()["total"] == 2
    nosy = await client.get(
        "/api/v1/deals/tasks/overdue",
        params={"broker_id": str(w.broker.user_id)},
        headers=other_broker.headers,
    )
    assert (nosy.status_code, nosy.json()["code"]) == (403, "admin_only")
    assert isinstance(date.fromisoformat(mine.json()["items"][0]["due_on"]), date)
