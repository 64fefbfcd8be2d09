"""Webhooks: signed deliveries, public addresses only, retries on a schedule, and a slow receiver
holding up nothing else."""

import asyncio
import ipaddress
import json
import ssl
import uuid
from datetime import datetime

import httpx
import pytest
import trustme
from sqlalchemy import func, select
from sqlalchemy import update as sa_update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.audit.models import AuditEntry
from app.matching import subscriptions, webhooks
from app.matching.models import Subscription
from app.outbox.models import OutboxMessage
from tests.search.conftest import wait_for


async def _subscribe(client, who, receiver, query: str = "石墨烯 导热") -> dict:
    created = await client.post(
        "/api/v1/subscriptions",
        json={"kind": "search", "query": query, "types": ["achievement"], "webhook_url": receiver.url},
        headers=who.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()


async def _graphene(make_listing, who, title: str = "石墨烯导热膜的制备") -> dict:
    return await make_listing(
        "achievements", who, title=title, description="高导热石墨烯薄膜。", field="new_materials"
    )


async def _delivered(receiver, count: int) -> None:
    async def enough() -> bool:
        return len([r for r in receiver.received if r["status"] == 200]) >= count

    await wait_for(enough, timeout=30)


async def test_deliveries_are_signed_and_the_secret_is_shown_once(
    client, db, owner, make_listing, webhook_receiver
) -> None:
    ent = await owner("demands")
    subscription = await _subscribe(client, ent, webhook_receiver)
    secret = subscription["webhook_secret"]
    assert secret.startswith("whsec_")
    listed = await client.get("/api/v1/subscriptions", headers=ent.headers)
    assert "webhook_secret" not in listed.json()["items"][0]

    uni = await owner("achievements")
    first = await _graphene(make_listing, uni)
    await _delivered(webhook_receiver, 1)
    delivery = webhook_receiver.received[0]
    # The receiver's side, with the Standard Webhooks reference library.
    assert (
        Webhook(secret).verify(delivery["raw"], delivery["headers"])["notification"]["listing_id"]
        == (first["id"])
    )
    tampered = delivery["raw"].replace(first["id"].encode(), str(uuid.uuid4()).encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, delivery["headers"])

    rotated = await client.post(
        f"/api/v1/subscriptions/{subscription['id']}/webhook-secret", headers=ent.headers
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["webhook_secret"]
    assert new_secret.startswith("whsec_") and new_secret != secret
    await _graphene(make_listing, uni, title="石墨烯导热硅脂")
    await _delivered(webhook_receiver, 2)
    second = webhook_receiver.received[1]
    Webhook(new_secret).verify(second["raw"], second["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(second["raw"], second["headers"])
    audited = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.object_id == subscription["id"])
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [action for action, _ in audited] == ["created", "webhook_secret_rotated"]
    assert not any(s in json.dumps([changes for _, changes in audited]) for s in (secret, new_secret))


async def test_only_the_owner_rotates_a_secret_and_only_of_a_webhook(client, owner, webhook_receiver) -> None:
    ent = await owner("demands")
    with_hook = await _subscribe(client, ent, webhook_receiver)
    without = await client.post(
        "/api/v1/subscriptions", json={"kind": "search", "query": "石墨烯"}, headers=ent.headers
    )
    assert without.json()["webhook_secret"] is None
    refused = await client.post(
        f"/api/v1/subscriptions/{without.json()['id']}/webhook-secret", headers=ent.headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_webhook"
    stranger = await owner("demands")
    hidden = await client.post(
        f"/api/v1/subscriptions/{with_hook['id']}/webhook-secret", headers=stranger.headers
    )
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.2:8080/hook", "not_public_address"),  # loopback outside the range tests allow
        ("http://10.1.2.3/hook", "not_public_address"),
        ("http://192.168.1.1/hook", "not_public_address"),
        ("http://169.254.169.254/latest/meta-data/", "not_public_address"),  # cloud metadata
        ("http://100.64.0.1/hook", "not_public_address"),  # carrier-grade NAT
        ("http://[::1]:8080/hook", "not_public_address"),
        ("http://[::ffff:10.0.0.1]/hook", "not_public_address"),  # 10.0.0.1 written as IPv6
        ("http://0.0.0.0:7700/indexes", "not_public_address"),
        # IPv6 forms that carry a private IPv4 address, judged as that address:
        ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "not_public_address"),  # NAT64 of 169.254.169.254
        ("http://[64:ff9b:1::a9fe:a9fe]/hook", "not_public_address"),  # NAT64 local use (RFC 8215)
        ("http://[2002:a9fe:a9fe::]/hook", "not_public_address"),  # 6to4
        ("http://[::7f00:2]:8080/hook", "not_public_address"),  # IPv4-compatible 127.0.0.2
        ("http://[::ffff:0:a00:1]/hook", "not_public_address"),  # IPv4-translated 10.0.0.1
        ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook", "not_public_address"),  # Teredo to 10.0.0.1
        ("http://no-such-host.invalid/hook", "unresolvable"),  # RFC 6761: never resolves
        ("http://127.0.0.1:9/" + "a" * 500, "value_error"),  # longer than stored (was a 500)
    ],
)
async def test_webhooks_to_internal_addresses_are_refused(client, db, owner, url, code) -> None:
    ent = await owner("demands")
    response = await client.post(
        "/api/v1/subscriptions",
        json={"kind": "search", "query": "石墨烯", "webhook_url": url},
        headers=ent.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "webhook_url"
    assert response.json()["errors"][0]["code"] == code
    assert await db.scalar(select(func.count()).select_from(Subscription)) == 0


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a9fe:a9fe",
        "2002:a9fe:a9fe::",
        "2002:7f00:1::1",
        "::7f00:1",
        "::ffff:0:7f00:1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo: server 65.54.227.120, client 192.0.2.45
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo: client 10.0.0.1
    ],
)
async def test_ipv6_forms_of_a_private_ipv4_address_are_refused_on_connect(settings, address) -> None:
    """The delivery judges the address it connects to as save does: the IPv4 address an IPv6 one
    carries, by the same rule."""
    assert not webhooks.allowed(address, [])
    async with webhooks.client(settings.model_copy(update={"webhook_allowed_networks": []})) as strict:
        with pytest.raises(httpx.ConnectError, match="not a public address"):
            await strict.post(f"http://[{address}]:9/hook", json={})


def test_the_ipv4_address_an_ipv6_one_carries_is_judged_by_the_same_rule() -> None:
    """Public IPv4 addresses stay reachable through NAT64 and 6to4, and the operator's allowed ranges
    apply to the IPv4 address carried."""
    internal = [ipaddress.ip_network("10.20.0.0/16")]
    for address in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"):
        assert webhooks.allowed(address, [])
    for address in ("64:ff9b::a14:1", "2002:a14:1::1", "::ffff:10.20.0.1", "::a14:1"):
        assert not webhooks.allowed(address, []) and webhooks.allowed(address, internal)
    assert not webhooks.allowed("64:ff9b::a15:1", internal)  # 10.21.0.1: outside the range


async def test_the_delivery_client_checks_the_address_it_connects_to(settings, webhook_receiver) -> None:
    """A name can resolve to another address by delivery time (or the allowed ranges change):
    the client itself refuses, on the address it would connect to."""
    async with webhooks.client(settings) as allowed:
        assert (await allowed.post(webhook_receiver.url, json={})).status_code == 200
    async with webhooks.client(settings.model_copy(update={"webhook_allowed_networks": []})) as strict:
        with pytest.raises(httpx.ConnectError, match="not a public address"):
            await strict.post(webhook_receiver.url, json={})
        with pytest.raises(httpx.ConnectError, match="not a public address"):
            await strict.post(webhook_receiver.url.replace("127.0.0.1", "localhost"), json={})
    assert len(webhook_receiver.received) == 1


async def test_https_deliveries_verify_the_receivers_certificate_by_name(settings, monkeypatch) -> None:
    """The client connects to the address it checked, yet TLS verifies the certificate against
    the name in the URL (SNI): https to a receiver known by name works, and the same certificate
    is refused for an address it does not name."""
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *args, **kwargs: trusting)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        # Where the machine's hosts file names ::1 localhost too, the client must be allowed both.
        loopback = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]
        async with webhooks.client(
            settings.model_copy(update={"webhook_allowed_networks": loopback})
        ) as http:
            assert (await http.post(f"https://localhost:{port}/hook", json={})).text == "ok"
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.post(f"https://127.0.0.1:{port}/hook", json={})
    finally:
        server.close()
        await server.wait_closed()


async def test_a_slow_receiver_holds_up_neither_the_index_nor_other_receivers(
    client, owner, make_listing, indexed, webhook_receiver, other_webhook_receiver
) -> None:
    webhook_receiver.hold = asyncio.Event()
    await _subscribe(client, await owner("demands"), webhook_receiver)
    await _subscribe(client, await owner("demands"), other_webhook_receiver)
    uni = await owner("achievements")
    await _graphene(make_listing, uni)

    async def held() -> bool:
        return webhook_receiver.waiting >= 1

    await wait_for(held, timeout=30)
    try:
        # The slow receiver keeps its delivery (the webhook timeout is 30 s here); meanwhile the
        # other receiver gets its own, and a new listing reaches the index.
        await _delivered(other_webhook_receiver, 1)
        later = await make_listing("achievements", uni, title="水稻抗倒伏栽培方法")
        await indexed("achievement", later["id"], timeout=20)
        assert webhook_receiver.received == []  # still held: nothing above waited for it
    finally:
        webhook_receiver.hold.set()
    await _delivered(webhook_receiver, 1)


async def test_a_failing_receiver_is_retried_on_the_schedule_then_given_up(
    client, db, owner, make_listing, webhook_receiver, settings
) -> None:
    webhook_receiver.statuses = [500] * 20
    ent = await owner("demands")
    await _subscribe(client, ent, webhook_receiver)
    await _graphene(make_listing, await owner("achievements"))

    delivery = select(OutboxMessage.processed_at, OutboxMessage.attempts).where(
        OutboxMessage.topic == webhooks.TOPIC
    )

    async def given_up() -> bool:
        row = (await db.execute(delivery)).first()
        return row is not None and row.processed_at is not None

    await wait_for(given_up, timeout=30)
    assert (await db.execute(delivery)).one().attempts == len(settings.webhook_retry_seconds)
    assert [r["status"] for r in webhook_receiver.received] == [500] * (
        1 + len(settings.webhook_retry_seconds)
    )
    assert len({r["delivery"] for r in webhook_receiver.received}) == 1  # one message id on every attempt
    # The owner sees that, and why; one delivery that succeeds clears it.
    (shown,) = (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
    assert shown["webhook_failing_since"] is not None
    attempts = 1 + len(settings.webhook_retry_seconds)
    assert f"gave up after {attempts} attempts" in shown["webhook_last_error"]
    assert "500" in shown["webhook_last_error"]
    webhook_receiver.statuses = []
    await _graphene(make_listing, await owner("achievements"), title="石墨烯导热硅脂")
    await _delivered(webhook_receiver, 1)

    async def recovered() -> bool:
        (again,) = (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
        return again["webhook_failing_since"] is None and again["webhook_last_error"] is None

    await wait_for(recovered, timeout=30)
    actions = (
        await db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.in_(["webhook_failing", "webhook_recovered"]))
            .order_by(AuditEntry.id)
        )
    ).all()
    assert actions == ["webhook_failing", "webhook_recovered"]  # the changes of state, not every attempt


async def test_a_receiver_back_after_the_retries_asks_for_the_notifications_again(
    client, db, owner, make_listing, webhook_receiver, settings
) -> None:
    webhook_receiver.statuses = [500] * (1 + len(settings.webhook_retry_seconds))
    ent = await owner("demands")
    subscription = await _subscribe(client, ent, webhook_receiver)
    await _graphene(make_listing, await owner("achievements"))

    async def given_up() -> bool:
        (shown,) = (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
        return "gave up" in (shown["webhook_last_error"] or "")

    await wait_for(given_up, timeout=30)
    first_id = webhook_receiver.received[0]["delivery"]

    again = await client.post(
        f"/api/v1/subscriptions/{subscription['id']}/webhook-redeliveries", headers=ent.headers
    )
    assert again.status_code == 202, again.text
    assert again.json() == {"queued": 1, "next_since": None}  # since the deliveries started failing
    await _delivered(webhook_receiver, 1)
    assert webhook_receiver.received[-1]["delivery"] == first_id  # the same message: a receiver dedupes

    async def recovered() -> bool:
        (shown,) = (await client.get("/api/v1/subscriptions", headers=ent.headers)).json()["items"]
        return shown["webhook_failing_since"] is None

    await wait_for(recovered, timeout=30)
    audited = (
        await db.execute(
            select(AuditEntry.changes).where(
                AuditEntry.object_id == subscription["id"],
                AuditEntry.action == "webhook_redelivery_requested",
            )
        )
    ).scalar_one()
    assert audited["queued"] == 1


async def test_redelivery_goes_on_from_a_given_time_in_pages_and_refuses_what_it_cannot_do(
    client, db, owner, make_listing, webhook_receiver, monkeypatch
) -> None:
    ent = await owner("demands")
    subscription = await _subscribe(client, ent, webhook_receiver)
    uni = await owner("achievements")
    await _graphene(make_listing, uni)
    await _delivered(webhook_receiver, 1)
    await _graphene(make_listing, uni, title="石墨烯导热硅脂")
    await _delivered(webhook_receiver, 2)
    url = f"/api/v1/subscriptions/{subscription['id']}/webhook-redeliveries"
    written = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == webhooks.TOPIC)
    before = await db.scalar(written)

    # Deliveries are not failing, so there is no default start: the field is named, nothing queued.
    refused = await client.post(url, headers=ent.headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["since"]
    assert await db.scalar(written) == before

    notifications = (await client.get("/api/v1/notifications", headers=ent.headers)).json()["items"]
    oldest, newest = sorted(notifications, key=lambda n: n["created_at"])
    assert oldest["created_at"].endswith("+08:00")  # shown in China's time
    monkeypatch.setattr(subscriptions, "REDELIVER_AT_MOST", 1)
    page = await client.post(url, json={"since": oldest["created_at"]}, headers=ent.headers)
    assert page.status_code == 202, page.text
    assert page.json()["queued"] == 1
    assert datetime.fromisoformat(page.json()["next_since"]) == datetime.fromisoformat(newest["created_at"])
    rest = await client.post(url, json={"since": page.json()["next_since"]}, headers=ent.headers)
    assert rest.json() == {"queued": 1, "next_since": None}
    await _delivered(webhook_receiver, 4)
    assert sorted(r["delivery"] for r in webhook_receiver.received[2:]) == sorted(
        [oldest["id"], newest["id"]]
    )

    stranger = await owner("demands")
    assert (
        await client.post(url, json={"since": oldest["created_at"]}, headers=stranger.headers)
    ).status_code == 404
    without = await client.post(
        "/api/v1/subscriptions", json={"kind": "search", "query": "石墨烯"}, headers=ent.headers
    )
    no_hook = await client.post(
        f"/api/v1/subscriptions/{without.json()['id']}/webhook-redeliveries",
        json={"since": oldest["created_at"]},
        headers=ent.headers,
    )
    assert no_hook.status_code == 409 and no_hook.json()["code"] == "no_webhook"
    naive = await client.post(url, json={"since": "2026-12-01T08:00:00"}, headers=ent.headers)
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "since"


async def test_a_subscription_is_paused_renamed_and_its_webhook_changed_or_removed(
    client, db, owner, make_listing, webhook_receiver, other_webhook_receiver
) -> None:
    ent = await owner("demands")
    saved = await client.post(
        "/api/v1/subscriptions", json={"kind": "search", "query": "石墨烯"}, headers=ent.headers
    )
    url = f"/api/v1/subscriptions/{saved.json()['id']}"

    async def patch(body: dict) -> dict:
        response = await client.patch(url, json=body, headers=ent.headers)
        assert response.status_code == 200, response.text
        return response.json()

    paused = await patch({"active": False, "name": "石墨烯动态"})
    assert paused["active"] is False and paused["name"] == "石墨烯动态" and paused["webhook_secret"] is None
    uni = await owner("achievements")
    while_paused = await _graphene(make_listing, uni)
    checked = select(OutboxMessage.processed_at).where(
        OutboxMessage.topic == "matching.listing_published",
        OutboxMessage.key == f"achievement:{while_paused['id']}",
    )

    async def was_checked() -> bool:
        return (await db.scalar(checked)) is not None

    await wait_for(was_checked, timeout=30)  # checked while paused: no notification
    resumed = await patch({"active": True, "webhook_url": webhook_receiver.url})
    secret = resumed["webhook_secret"]  # a webhook where there was none: its secret, once
    assert resumed["active"] is True and secret.startswith("whsec_")
    after = await _graphene(make_listing, uni, title="石墨烯导热硅脂")
    await _delivered(webhook_receiver, 1)
    assert [
        n["listing_id"]
        for n in (await client.get("/api/v1/notifications", headers=ent.headers)).json()["items"]
    ] == [after["id"]]
    Webhook(secret).verify(webhook_receiver.received[0]["raw"], webhook_receiver.received[0]["headers"])

    await db.execute(
        sa_update(Subscription)
        .where(Subscription.id == uuid.UUID(saved.json()["id"]))
        .values(webhook_failing_since=func.now(), webhook_last_error="ConnectError()")
    )
    await db.commit()
    moved = await patch({"webhook_url": other_webhook_receiver.url})  # same receiver, new address
    assert moved["webhook_failing_since"] is None and moved["webhook_last_error"] is None
    assert moved["webhook_url"] == other_webhook_receiver.url and moved["webhook_secret"] is None
    await _graphene(make_listing, uni, title="石墨烯散热涂层")
    await _delivered(other_webhook_receiver, 1)
    Webhook(secret).verify(
        other_webhook_receiver.received[0]["raw"], other_webhook_receiver.received[0]["headers"]
    )

    refused = await client.patch(url, json={"webhook_url": "http://10.0.0.1/hook"}, headers=ent.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "webhook_url"
    removed = await patch({"webhook_url": None})
    assert removed["webhook_url"] is None
    stored = await db.scalar(select(Subscription).where(Subscription.id == uuid.UUID(saved.json()["id"])))
    assert stored.webhook_secret is None and stored.webhook_url is None
    stranger = await owner("demands")
    assert (await client.patch(url, json={"active": False}, headers=stranger.headers)).status_code == 404
    audited = (
        await db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == saved.json()["id"])
            .order_by(AuditEntry.id)
        )
    ).all()
    assert audited == ["created", "updated", "updated", "updated", "updated"]
