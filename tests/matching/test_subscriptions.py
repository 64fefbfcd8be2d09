"""Saved searches and followed demands: notifications, and webhooks retried through the outbox."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.matching import subscriptions
from app.matching.models import Notification, Subscription
from search.engine import Engine
from tests.search.conftest import AIDS_SURVEY, wait_for

# An achievement that matches the battery-coating demands of these tests.
BATTERY_INSPECTION = {
    "title": "锂电池极片涂布缺陷视觉检测",
    "description": "机器视觉在线检测锂电池极片涂布缺陷。",
    "field": "new_energy",
}


async def _notifications(client, who) -> list[dict]:
    response = await client.get("/api/v1/notifications", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _notified(client, who, count: int = 1) -> list[dict]:
    """The user's notifications once there are at least `count` (the checks run in the background)."""

    async def enough() -> bool:
        return len(await _notifications(client, who)) >= count

    await wait_for(enough, timeout=30)
    return await _notifications(client, who)


async def test_saved_search_notifies_and_posts_webhook_with_retries(
    client, owner, make_listing, webhook_receiver
) -> None:
    ent = await owner("demands")
    webhook_receiver.statuses = [500, 503]  # the first two deliveries fail; the relay retries
    created = await client.post(
        "/api/v1/subscriptions",
        json={
            "kind": "search",
            "query": "石墨烯 導熱",
            "types": ["achievement"],
            "webhook_url": webhook_receiver.url,
        },
        headers=ent.headers,
    )
    assert created.status_code == 201, created.text
    uni = await owner("achievements")
    unrelated = await make_listing("achievements", uni, title="水稻抗倒伏栽培方法")
    match = await make_listing(
        "achievements",
        uni,
        title="石墨烯导热膜的制备",
        description="高导热石墨烯薄膜。",
        field="new_materials",
    )

    items = await _notified(client, ent)
    assert [item["listing_id"] for item in items] == [match["id"]]
    assert unrelated["id"] not in {item["listing_id"] for item in items}

    async def delivered() -> bool:
        return any(r["status"] == 200 for r in webhook_receiver.received)

    await wait_for(delivered, timeout=30)
    assert [r["status"] for r in webhook_receiver.received] == [500, 503, 200]
    body = webhook_receiver.received[-1]["body"]
    assert body["event"] == "listing.matched" and body["notification"]["listing_id"] == match["id"]
    assert len({r["delivery"] for r in webhook_receiver.received}) == 1  # same delivery id on every retry


async def test_a_saved_search_matches_a_latin_last_word_whole(client, owner, make_listing) -> None:
    """Saved, AI notified of a paper on AIDS (Meilisearch matched it as a prefix); it finds what the
    search finds."""
    ent = await owner("demands")
    saved = await client.post(
        "/api/v1/subscriptions",
        json={"kind": "search", "query": "AI", "types": ["achievement"]},
        headers=ent.headers,
    )
    assert saved.status_code == 201, saved.text
    uni = await owner("achievements")
    await make_listing("achievements", uni, **AIDS_SURVEY)
    match = await make_listing("achievements", uni, title="人工智能辅助的病理切片诊断")
    assert [item["listing_id"] for item in await _notified(client, ent)] == [match["id"]]


async def test_following_a_demand(client, owner, make_listing, signed_in) -> None:
    ent = await owner("demands")
    demand = await make_listing(
        "demands",
        ent,
        title="锂电池极片涂布缺陷在线检测",
        description="需要在线检测锂电池极片涂布缺陷。",
        field="new_energy",
    )
    stranger = await owner("demands")
    refused = await client.post(
        "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=stranger.headers
    )
    assert refused.status_code == 422 and "demand_id" in refused.text
    followed = await client.post(
        "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=ent.headers
    )
    assert followed.status_code == 201, followed.text
    again = await client.post(
        "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=ent.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already_following"
    assert again.json()["subscription_id"] == followed.json()["id"]
    assert again.json()["errors"][0]["field"] == "demand_id"
    uni = await owner("achievements")
    match = await make_listing("achievements", uni, **BATTERY_INSPECTION)
    await make_listing("achievements", uni, title="水稻抗倒伏栽培方法")

    items = await _notified(client, ent)
    assert [item["listing_id"] for item in items] == [match["id"]]
    assert items[0]["explanation"]
    listed = await client.get("/api/v1/subscriptions", headers=ent.headers)
    assert [s["kind"] for s in listed.json()["items"]] == ["demand"]
    deleted = await client.delete(f"/api/v1/subscriptions/{followed.json()['id']}", headers=ent.headers)
    assert deleted.status_code == 204


async def test_subscriptions_need_sign_in(client) -> None:
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (
        await client.post("/api/v1/subscriptions", json={"kind": "search", "query": "x"})
    ).status_code == 401


async def test_control_characters_are_refused_by_name(client, owner) -> None:
    """Found by schemathesis: a NUL in a saved query reached PostgreSQL and answered 500."""
    ent = await owner("demands")
    for body, name in (
        ({"kind": "search", "query": "石墨烯\x00"}, "query"),
        ({"kind": "search", "query": "石墨烯", "name": "关注\x1f"}, "name"),
    ):
        response = await client.post("/api/v1/subscriptions", json=body, headers=ent.headers)
        assert response.status_code == 422, response.text
        assert name in response.text
    listed = await client.get("/api/v1/subscriptions", headers=ent.headers)
    assert listed.status_code == 200 and listed.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_a_demand_is_followed_once_however_many_clicks_arrive_together(
    client, db, owner, make_listing
) -> None:
    ent = await owner("demands")
    demand = await make_listing("demands", ent)
    body = {"kind": "demand", "demand_id": demand["id"]}
    responses = await asyncio.gather(
        *(client.post("/api/v1/subscriptions", json=body, headers=ent.headers) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    created = next(r.json()["id"] for r in responses if r.status_code == 201)
    assert {r.json()["subscription_id"] for r in responses if r.status_code == 409} == {created}
    follows = await db.scalar(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.demand_id == uuid.UUID(demand["id"]))
    )
    audited = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "subscription")
    )
    assert follows == audited == 1


async def test_every_followed_demand_is_checked_in_batches_with_its_current_text(
    client, db, owner, make_listing, monkeypatch
) -> None:
    """Follows are checked many demands per Meilisearch request and each demand's query is kept
    between checks: a demand in a later request is checked too, and an edited demand with its new
    text."""
    monkeypatch.setattr(subscriptions, "QUERIES_PER_REQUEST", 2)
    ent = await owner("demands")
    rice = "水稻抗倒伏栽培技术需求", "需要提高水稻抗倒伏能力的栽培方法。"
    demands = [
        await make_listing("demands", ent, title=title, description=text, field="agriculture")
        for title, text in [
            rice,
            ("果树修剪机械", "需要果园修剪机械。"),
            ("锂电池极片涂布缺陷在线检测", "需要机器视觉在线检测锂电池极片涂布缺陷。"),
        ]
    ]
    for demand in demands:
        followed = await client.post(
            "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=ent.headers
        )
        assert followed.status_code == 201, followed.text
    uni = await owner("achievements")
    battery = await make_listing("achievements", uni, **BATTERY_INSPECTION)

    first = await _notified(client, ent)
    assert [(n["listing_id"], n["subscription_id"]) for n in first] == [
        (battery["id"], s["id"])
        for s in (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
        if s["demand_id"] == demands[2]["id"]
    ]
    # The rice demand becomes a graphene demand: the next graphene achievement is its match.
    edited = await client.patch(
        f"/api/v1/demands/{demands[0]['id']}",
        json={
            "title": "石墨烯导热膜",
            "description": "需要高导热石墨烯薄膜。",
            "version": demands[0]["version"],
        },
        headers=ent.headers,
    )
    assert edited.status_code == 200, edited.text
    graphene = await make_listing(
        "achievements",
        uni,
        title="石墨烯导热膜的制备",
        description="高导热石墨烯薄膜。",
        field="new_materials",
    )
    assert {n["listing_id"] for n in await _notified(client, ent, 2)} == {battery["id"], graphene["id"]}


async def test_checking_subscriptions_does_not_hold_up_the_index(
    client, owner, make_listing, indexed, monkeypatch
) -> None:
    """Checking a new listing against every follow takes time in proportion to their number; the
    index does not wait for it (with 1,000 follows it once made every publish wait seconds)."""
    release, checking = asyncio.Event(), asyncio.Event()
    check = subscriptions._followed_demands_matched

    async def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        checking.set()
        await release.wait()
        return await check(*args, **kwargs)

    monkeypatch.setattr(subscriptions, "_followed_demands_matched", slow_check)
    ent = await owner("demands")
    demand = await make_listing("demands", ent)
    followed = await client.post(
        "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=ent.headers
    )
    assert followed.status_code == 201, followed.text
    uni = await owner("achievements")
    await make_listing("achievements", uni, title="锂电池极片涂布缺陷视觉检测")
    await asyncio.wait_for(checking.wait(), timeout=30)
    try:
        later = await make_listing("achievements", uni, title="水稻抗倒伏栽培方法")
        await indexed("achievement", later["id"], timeout=20)
    finally:
        release.set()


async def test_notifications_are_marked_read_one_by_one_or_up_to_what_was_seen(client, db, owner) -> None:
    ent = await owner("demands")
    saved = await client.post(
        "/api/v1/subscriptions", json={"kind": "search", "query": "石墨烯"}, headers=ent.headers
    )
    assert saved.status_code == 201, saved.text
    first = datetime.now(UTC) - timedelta(hours=3)
    rows = [
        Notification(
            user_id=ent.user.id,
            subscription_id=uuid.UUID(saved.json()["id"]),
            listing_kind="achievement",
            listing_id=uuid.uuid4(),
            title=f"石墨烯成果{n}",
            created_at=first + timedelta(hours=n),
        )
        for n in range(3)
    ]
    db.add_all(rows)
    await db.commit()
    oldest, middle, newest = (str(row.id) for row in rows)

    async def listed(**params: str) -> dict:
        response = await client.get("/api/v1/notifications", params=params, headers=ent.headers)
        assert response.status_code == 200, response.text
        return response.json()

    assert (await listed())["unread"] == (await listed())["total"] == 3
    read = await client.post(f"/api/v1/notifications/{oldest}/read", headers=ent.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = await client.post(f"/api/v1/notifications/{oldest}/read", headers=ent.headers)
    assert again.json()["read_at"] == read.json()["read_at"]  # the first reading stays
    unread = await listed(unread="true")
    assert [n["id"] for n in unread["items"]] == [newest, middle]
    assert unread["total"] == unread["unread"] == 2

    stranger = await owner("demands")
    assert (
        await client.post(f"/api/v1/notifications/{newest}/read", headers=stranger.headers)
    ).status_code == 404
    naive = await client.post(
        "/api/v1/notifications/read", json={"up_to": "2026-12-01T10:00:00"}, headers=ent.headers
    )
    assert naive.status_code == 422 and "up_to" in naive.text
    # "All read" covers what the user saw: up to the middle one, not the newest that came after.
    seen = await client.post(
        "/api/v1/notifications/read",
        json={"up_to": (first + timedelta(hours=1)).isoformat()},
        headers=ent.headers,
    )
    assert seen.status_code == 200 and seen.json() == {"marked": 1}
    assert [n["id"] for n in (await listed(unread="true"))["items"]] == [newest]
    everything = await client.post("/api/v1/notifications/read", headers=ent.headers)
    assert everything.json() == {"marked": 1}
    assert (await listed())["unread"] == 0 and (await listed())["total"] == 3
    actions = (
        await db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.in_(["read", "notifications_read"]))
            .order_by(AuditEntry.id)
        )
    ).all()
    assert actions == ["read", "notifications_read", "notifications_read"]


async def test_a_catalogue_imported_and_published_is_checked_like_a_publish(
    client, owner, make_listing, monkeypatch
) -> None:
    """A university's catalogue imported with `publish` goes live without a publish call; its
    listings reach saved searches and followed demands all the same (they once did not), each
    subscription asked once about the whole catalogue, not once per listing."""
    asked: list[dict] = []
    multi_search = Engine.multi_search

    async def recording(self, body):  # type: ignore[no-untyped-def]
        asked.extend(body["queries"])
        return await multi_search(self, body)

    monkeypatch.setattr(Engine, "multi_search", recording)
    ent = await owner("demands")
    demand = await make_listing(
        "demands",
        ent,
        title="锂电池极片涂布缺陷在线检测",
        description="需要机器视觉在线检测锂电池极片涂布缺陷。",
        field="new_energy",
    )
    for body in ({"kind": "demand", "demand_id": demand["id"]}, {"kind": "search", "query": "石墨烯 导热"}):
        subscribed = await client.post("/api/v1/subscriptions", json=body, headers=ent.headers)
        assert subscribed.status_code == 201, subscribed.text
    uni = await owner("achievements")
    catalogue = (
        "title,description,field\n"
        "锂电池极片涂布缺陷视觉检测,机器视觉在线检测锂电池极片涂布缺陷。,new_energy\n"
        "石墨烯导热膜的制备,高导热石墨烯薄膜。,new_materials\n"
        "水稻抗倒伏栽培方法,提高水稻抗倒伏能力。,agriculture\n"
    )
    imported = await client.post(
        "/api/v1/achievements/import",
        files={"file": ("目录.csv", catalogue.encode())},
        data={"publish": "true"},
        headers=uni.headers,
    )
    assert imported.status_code == 201 and imported.json()["published"] == 3, imported.text
    mine = await client.get("/api/v1/achievements", params={"owner": "me"}, headers=uni.headers)
    by_title = {item["title"]: item["id"] for item in mine.json()["items"]}

    notified = await _notified(client, ent, 2)
    subscriptions_of = {
        s["kind"]: s["id"]
        for s in (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
    }
    assert {(n["subscription_id"], n["listing_id"]) for n in notified} == {
        (subscriptions_of["demand"], by_title["锂电池极片涂布缺陷视觉检测"]),
        (subscriptions_of["search"], by_title["石墨烯导热膜的制备"]),
    }
    checks = [query for query in asked if by_title["石墨烯导热膜的制备"] in str(query.get("filter"))]
    assert len(checks) == 2  # the follow and the saved search
    assert all(
        all(listing_id in str(query["filter"]) for listing_id in by_title.values()) for query in checks
    )


async def test_closed_demands_and_closed_accounts_are_not_notified(
    client, db, owner, make_listing, signed_in
) -> None:
    """A follow is checked while its demand is a draft or published; nothing is stored or sent on
    behalf of a deactivated account."""
    text = {"description": "需要机器视觉在线检测锂电池极片涂布缺陷。", "field": "new_energy"}
    ent = await owner("demands")
    sought = await make_listing("demands", ent, title="锂电池极片涂布缺陷在线检测", **text)
    closed = await make_listing("demands", ent, title="锂电池涂布缺陷检测设备", **text)
    for demand in (sought, closed):
        followed = await client.post(
            "/api/v1/subscriptions", json={"kind": "demand", "demand_id": demand["id"]}, headers=ent.headers
        )
        assert followed.status_code == 201, followed.text
    closing = await client.post(f"/api/v1/demands/{closed['id']}/close", headers=ent.headers)
    assert closing.status_code == 200, closing.text
    gone = await owner("demands")
    saved = await client.post(
        "/api/v1/subscriptions",
        # Achievements only: the demands above, still being checked, would match while it is active.
        json={"kind": "search", "query": "锂电池 涂布", "types": ["achievement"]},
        headers=gone.headers,
    )
    assert saved.status_code == 201, saved.text
    admin = await signed_in(role=Role.admin)
    deactivated = await client.post(f"/api/v1/users/{gone.user.id}/deactivate", headers=admin.headers)
    assert deactivated.status_code == 200, deactivated.text
    uni = await owner("achievements")
    match = await make_listing("achievements", uni, **BATTERY_INSPECTION)

    notified = await _notified(client, ent)  # one check of the new listing covers all three
    follows = {
        s["demand_id"]: s["id"]
        for s in (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
    }
    assert [(n["subscription_id"], n["listing_id"]) for n in notified] == [
        (follows[sought["id"]], match["id"])
    ]
    stored_for_gone = await db.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == gone.user.id)
    )
    assert stored_for_gone == 0
