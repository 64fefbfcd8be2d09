"""Every step of an interest tells the other side: a notification for each of its active users,
a signed webhook delivery where they have a webhook, and the once-only report of an interest left
unanswered (a controlled clock: created_at moved back, never a sleep)."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from app.accounts.models import Role, User
from app.deals.models import Interest
from app.interests import service
from app.matching import webhooks
from app.matching.models import Notification, NotificationKind
from app.outbox.models import OutboxMessage
from tests.contracts.helpers import person
from tests.deals.factory import deal_world
from tests.interests.helpers import expressed, notifications_of
from tests.matching.conftest import Receiver, webhook_receiver  # noqa: F401
from tests.search.conftest import wait_for


async def _answer(client: httpx.AsyncClient, who, interest_id: str, action: str, **body) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/interests/{interest_id}/{action}", json=body or None, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _age(db: AsyncSession, interest_id: str, days: float) -> None:
    await db.execute(
        update(Interest)
        .where(Interest.id == uuid.UUID(interest_id))
        .values(created_at=datetime.now(UTC) - timedelta(days=days))
    )
    await db.commit()


async def _subscribe(client: httpx.AsyncClient, who, receiver: Receiver, query: str = "隔膜") -> dict:  # type: ignore[no-untyped-def]
    created = await client.post(
        "/api/v1/subscriptions",
        json={"kind": "search", "query": query, "types": ["demand"], "webhook_url": receiver.url},
        headers=who.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_each_step_notifies_every_active_user_of_the_other_side_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    colleague = await person(client, db, Role.member, w.seller_org)
    retired = await person(client, db, Role.member, w.seller_org)
    await db.execute(update(User).where(User.id == retired.user_id).values(is_active=False))
    await db.commit()

    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    for owner_side in (w.seller, colleague):
        (received,) = await notifications_of(db, owner_side)
        assert received.kind == NotificationKind.interest_received
        assert received.subscription_id is None and received.listing_id == w.achievement.id
        assert received.title == w.achievement.title
        assert received.details == {"interest_id": interest["id"], "organization_name": w.buyer_org.name}
    assert await notifications_of(db, retired) == []
    assert await notifications_of(db, w.buyer) == []  # not the side that acted

    await _answer(client, w.buyer, interest["id"], "withdraw")
    assert [n.kind for n in await notifications_of(db, w.seller)] == [
        NotificationKind.interest_received,
        NotificationKind.interest_withdrawn,
    ]

    second = await expressed(client, w.buyer, "achievement", w.achievement.id)
    accepted = await _answer(client, colleague, second["id"], "accept")
    (told,) = await notifications_of(db, w.buyer)
    assert told.kind == NotificationKind.interest_accepted
    assert told.details == {"interest_id": second["id"], "deal_id": accepted["deal_id"]}
    # Neither outsiders nor the broker of another deal hear of it.
    assert await notifications_of(db, w.outsider) == await notifications_of(db, w.broker) == []
    # Two owner-side users told of two interests and a withdrawal, one interested user of the answer.
    assert await db.scalar(select(func.count()).select_from(Notification)) == 2 * 3 + 1
    assert len(await notifications_of(db, colleague)) == 3


async def test_the_declined_side_always_receives_the_reason_in_its_notifications(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    colleague = await person(client, db, Role.member, w.buyer_org)
    interest = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    await _answer(
        client, w.seller, interest["id"], "decline", reason="no_route_to_market", note="尚无量产渠道"
    )
    # The client's members and the technology manager who filed for it.
    for who in (w.buyer, colleague, w.broker):
        listed = (await client.get("/api/v1/notifications", headers=who.headers)).json()
        assert listed["total"] == 1 and listed["unread"] == 1
        (item,) = listed["items"]
        assert item["kind"] == "interest_declined" and item["subscription_id"] is None
        assert item["details"] == {
            "interest_id": interest["id"],
            "reason": "no_route_to_market",
            "reason_label": "缺乏市场化路径",
            "note": "尚无量产渠道",
        }
        assert item["explanation"] == ["婉拒原因：缺乏市场化路径", "说明：尚无量产渠道"]
        read = await client.post(f"/api/v1/notifications/{item['id']}/read", headers=who.headers)
        assert read.status_code == 200 and read.json()["read_at"]


async def test_webhooks_receive_each_step_signed_and_without_contacts(
    client: httpx.AsyncClient,
    db: AsyncSession,
    webhook_receiver: Receiver,  # noqa: F811
) -> None:
    w = await deal_world(client, db)
    w.achievement.contacts = [{"name": "李老师", "phone": "025-83790000", "email": "li@example.edu.cn"}]
    await db.commit()
    owner_hook = await _subscribe(client, w.seller, webhook_receiver)
    await _subscribe(client, w.seller, webhook_receiver, query="电池")  # the same address: posted once
    buyer_hook = await _subscribe(client, w.buyer, webhook_receiver)

    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    await _answer(client, w.seller, interest["id"], "accept")

    async def two() -> bool:
        return len(webhook_receiver.received) >= 2

    await wait_for(two, timeout=30)
    events = {d["body"]["event"]: d for d in webhook_receiver.received}
    assert set(events) == {"interest.received", "interest.accepted"}
    received = Webhook(owner_hook["webhook_secret"]).verify(
        events["interest.received"]["raw"], events["interest.received"]["headers"]
    )
    assert received["notification"]["details"]["interest_id"] == interest["id"]
    assert received["notification"]["kind"] == "interest_received"
    accepted = Webhook(buyer_hook["webhook_secret"]).verify(
        events["interest.accepted"]["raw"], events["interest.accepted"]["headers"]
    )
    assert accepted["notification"]["listing_id"] == str(w.achievement.id)
    # Contacts are read through the API, never posted: neither side's e-mail nor phone.
    for delivery in webhook_receiver.received:
        raw = delivery["raw"].decode()
        assert "@" not in raw and "025-83790000" not in raw and "李老师" not in raw
    queued = await db.scalar(select(func.count()).where(OutboxMessage.topic == webhooks.TOPIC))
    assert queued == 2 and len(webhook_receiver.received) == 2


async def test_an_unanswered_interest_is_reported_to_the_interested_side_once(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    days = app.state.settings.interest_answer_days
    waiting = await expressed(
        client, w.broker, "achievement", w.achievement.id, on_behalf_of_organization_id=str(w.buyer_org.id)
    )
    recent = await expressed(client, w.outsider, "achievement", w.achievement.id)
    answered_org = await person(client, db, Role.member, w.agency)
    answered = await expressed(client, answered_org, "achievement", w.achievement.id)
    await _answer(client, w.seller, answered["id"], "decline", reason="timing")
    await _age(db, waiting["id"], days + 0.5)
    await _age(db, recent["id"], days - 0.5)
    await _age(db, answered["id"], days + 5)

    # The worker's round (the API process and `techex worker` run it periodically).
    await app.state.background.drain()
    for who in (w.buyer, w.broker):
        mine = await notifications_of(db, who)
        (told,) = [n for n in mine if n.kind == NotificationKind.interest_unanswered]
        assert told.details["interest_id"] == waiting["id"] and told.details["days"] == days
    assert not [n for n in await notifications_of(db, w.outsider) if n.kind == "interest_unanswered"]
    assert [n.kind for n in await notifications_of(db, answered_org)] == [NotificationKind.interest_declined]
    stored = await db.get(Interest, uuid.UUID(waiting["id"]), populate_existing=True)
    assert stored is not None and stored.unanswered_notified_at is not None

    # Once: later rounds tell nobody again.
    assert await service.remind_unanswered(db, days=days) == 0
    await db.commit()
    await app.state.background.drain()
    assert len(await notifications_of(db, w.buyer)) == 1
    owner_view = (await client.get(f"/api/v1/interests/{waiting['id']}", headers=w.seller.headers)).json()
    assert owner_view["age_days"] >= days and owner_view["unanswered_notified_at"]


async def test_a_webhook_redelivery_includes_the_users_notifications_of_interests(
    client: httpx.AsyncClient,
    db: AsyncSession,
    webhook_receiver: Receiver,  # noqa: F811
) -> None:
    w = await deal_world(client, db)
    since = datetime.now(UTC) - timedelta(minutes=1)
    hook = await _subscribe(client, w.buyer, webhook_receiver)
    interest = await expressed(client, w.buyer, "achievement", w.achievement.id)
    await _answer(client, w.seller, interest["id"], "decline", reason="price")

    redelivered = await client.post(
        f"/api/v1/subscriptions/{hook['id']}/webhook-redeliveries",
        json={"since": since.isoformat()},
        headers=w.buyer.headers,
    )
    assert redelivered.status_code == 202, redelivered.text
    assert redelivered.json()["queued"] == 1

    async def twice() -> bool:
        return len(webhook_receiver.received) >= 2

    await wait_for(twice, timeout=30)
    first, again = webhook_receiver.received
    assert first["body"]["event"] == again["body"]["event"] == "interest.declined"
    assert first["delivery"] == again["delivery"]  # the same webhook-id: the receiver drops the duplicate
