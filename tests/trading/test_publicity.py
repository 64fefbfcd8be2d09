"""协议定价公示 through the API, the server's clock moved by time-machine: publishing, the public
list, objections suspending the period, their decision (upheld: back to negotiation; dismissed:
the remaining period counted from the decision), the end of the period and who is told."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import time_machine
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, User
from app.audit.models import AuditEntry
from app.deals.models import Deal
from app.deals.vocabulary import DealStage
from app.matching.models import Notification, NotificationKind
from app.trading.publicity import completion
from app.trading.publicity.service import period_end
from app.trading.vocabulary import PricingRoute
from tests.contracts.helpers import Person
from tests.deals.factory import DealWorld, deal_at, deal_world, move, published_achievement
from tests.fixtures.accounts import sign_in

S = DealStage
PRICE = Decimal("800000.00")
# 10:00 in Nanjing on 1 March 2027: the period's 15 days run 2 to 16 March, ending at 24:00.
PUBLISHED = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
PERIOD_END = datetime(2027, 3, 16, 16, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def again(client: httpx.AsyncClient, db: AsyncSession, who: Person) -> Person:
    """`who` signed in at the travelled time (an access token lives minutes, the period days)."""
    user = await db.get(User, who.user_id)
    assert user is not None
    return Person(who.user_id, who.organization_id, await sign_in(client, user.email))


async def published(client: httpx.AsyncClient, db: AsyncSession, w: DealWorld) -> tuple[Deal, dict[str, Any]]:
    deal = await deal_at(db, w, S.agreed, agreed_price=PRICE, priced=False)
    with time_machine.travel(PUBLISHED, tick=False):
        seller = await again(client, db, w.seller)
        response = await client.post(
            f"/api/v1/deals/{deal.id}/pricing-publicity", json={"terms": "一次性付款"}, headers=seller.headers
        )
    assert response.status_code == 201, response.text
    return deal, response.json()


async def objected(
    client: httpx.AsyncClient, db: AsyncSession, who: Person, publicity_id: str, at: datetime, **files: Any
) -> httpx.Response:
    with time_machine.travel(at, tick=False):
        signed_in = await again(client, db, who)
        return await client.post(
            f"/api/v1/publicity/pricing/{publicity_id}/objections",
            data={"reason": "该专利已许可他人，价格明显偏低。"},
            files=files or None,
            headers=signed_in.headers,
        )


async def decided(
    client: httpx.AsyncClient,
    db: AsyncSession,
    who: Person,
    publicity_id: str,
    objection_id: str,
    decision: str,
    at: datetime,
) -> httpx.Response:
    with time_machine.travel(at, tick=False):
        signed_in = await again(client, db, who)
        return await client.post(
            f"/api/v1/publicity/pricing/{publicity_id}/objections/{objection_id}/decision",
            json={"decision": decision, "note": "经核查"},
            headers=signed_in.headers,
        )


async def notified(db: AsyncSession, kind: NotificationKind) -> set[Any]:
    rows = await db.scalars(select(Notification.user_id).where(Notification.kind == kind))
    return set(rows)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_the_seller_publishes_the_agreed_price_for_fifteen_calendar_days(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal, publicity = await published(client, db, w)
    assert (publicity["achievement_name"], Decimal(publicity["proposed_price"])) == (
        w.achievement.title,
        PRICE,
    )
    assert (publicity["status"], publicity["period_days"], publicity["terms"]) == (
        "running",
        15,
        "一次性付款",
    )
    assert instant(publicity["ends_at"]) == PERIOD_END
    assert publicity["ends_at"] == "2027-03-17T00:00:00+08:00"
    await db.refresh(deal)
    assert deal.pricing_route == "agreed_publicity"
    actions = set(await db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == publicity["id"])))
    assert actions == {"publish"}

    # One at a time; the buyer does not publish the seller's price; nor is a lead priced.
    again_ = await client.post(
        f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=w.broker.headers
    )
    assert (again_.status_code, again_.json()["code"]) == (409, "publicity_live")
    buyer = await client.post(f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=w.buyer.headers)
    assert (buyer.status_code, buyer.json()["code"]) == (403, "seller_side_only")
    w.achievement = await published_achievement(db, w.seller_org, title="一种钙钛矿电池封装工艺")
    lead = await deal_at(db, w, S.negotiating)
    early = await client.post(f"/api/v1/deals/{lead.id}/pricing-publicity", json={}, headers=w.seller.headers)
    assert (early.status_code, early.json()["code"]) == (409, "deal_not_agreed")


async def test_an_enterprise_seller_has_no_publicity(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    w.seller_org.kind = OrganizationKind.enterprise
    await db.commit()
    deal = await deal_at(db, w, S.agreed)
    refused = await client.post(
        f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=w.seller.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "publicity_not_applicable")


async def test_a_deal_priced_by_its_auction_is_not_published_again(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed, priced=False)
    deal.pricing_route = PricingRoute.auction
    await db.commit()
    refused = await client.post(
        f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=w.seller.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "publicity_not_applicable")


def test_the_period_ends_at_midnight_in_china_whatever_the_hour_of_publication() -> None:
    # 23:30 on 1 March in Nanjing is still 1 March: the day of publication does not count.
    assert period_end(datetime(2027, 3, 1, 15, 30, tzinfo=UTC), 15) == PERIOD_END
    # 00:30 on 2 March in Nanjing (16:30 UTC on the 1st): one day later.
    assert period_end(datetime(2027, 3, 1, 16, 30, tzinfo=UTC), 15) == PERIOD_END + timedelta(days=1)


async def test_anyone_reads_the_running_and_suspended_ones_without_the_parties(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    _, first = await published(client, db, w)
    w.achievement = await published_achievement(db, w.seller_org, title="一种钙钛矿电池封装工艺")
    _, second = await published(client, db, w)
    assert (
        await objected(client, db, w.outsider, second["id"], PUBLISHED + timedelta(days=1))
    ).status_code == 201

    with time_machine.travel(PUBLISHED + timedelta(days=2), tick=False):
        listed = await client.get("/api/v1/publicity/pricing", params={"limit": 1})
        everything = await client.get("/api/v1/publicity/pricing")
        one = await client.get(f"/api/v1/publicity/pricing/{first['id']}")
    assert listed.status_code == 200 and (listed.json()["total"], len(listed.json()["items"])) == (2, 1)
    assert {p["id"]: p["status"] for p in everything.json()["items"]} == {
        first["id"]: "running",
        second["id"]: "suspended",
    }
    assert one.json()["status_label"] == "公示中"
    text = everything.text
    for secret in (
        str(w.seller_org.id),
        str(w.buyer_org.id),
        str(w.broker.user_id),
        "seller_organization_id",
    ):
        assert secret not in text
    missing = await client.get("/api/v1/publicity/pricing/00000000-0000-0000-0000-000000000000")
    assert (missing.status_code, missing.json()["code"]) == (404, "publicity_not_found")


async def test_an_upheld_objection_sends_the_deal_back_to_negotiation_and_it_cannot_be_signed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal, publicity = await published(client, db, w)
    filed = await objected(client, db, w.outsider, publicity["id"], PUBLISHED + timedelta(days=3))
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "pending"
    # The seller side hears of it (its member and the broker), not the buyer.
    assert await notified(db, NotificationKind.publicity_objection_filed) == {
        w.seller.user_id,
        w.broker.user_id,
    }

    upheld = await decided(
        client, db, w.seller, publicity["id"], filed.json()["id"], "uphold", PUBLISHED + timedelta(days=4)
    )
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["objection"]["status"], upheld.json()["publicity"]["status"]) == (
        "upheld",
        "objection_upheld",
    )
    await db.refresh(deal)
    assert (deal.stage, deal.stage_reason) == (S.negotiating, "协议定价公示异议成立，退回洽谈")
    assert await notified(db, NotificationKind.publicity_objection_decided) == {w.outsider.user_id}

    # Agreed again at the same price, the deal still cannot be signed: no publicity completed.
    assert (await move(client, w.broker, deal.id, S.agreed)).status_code == 200
    refused = await move(client, w.buyer, deal.id, S.signed)
    assert (refused.status_code, refused.json()["code"]) == (409, "publicity_not_completed")
    # The period's end changes nothing: the publicity ended with the objection upheld.
    with time_machine.travel(PERIOD_END + timedelta(days=1), tick=False):
        ended = await client.get(f"/api/v1/publicity/pricing/{publicity['id']}")
    assert ended.json()["status"] == "objection_upheld"


async def test_a_dismissed_objection_resumes_the_period_with_the_time_it_had_left(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal, publicity = await published(client, db, w)
    objected_at = PUBLISHED + timedelta(days=5, hours=3)
    filed = await objected(client, db, w.outsider, publicity["id"], objected_at)
    left = int((PERIOD_END - objected_at).total_seconds())
    with time_machine.travel(objected_at, tick=False):
        suspended = (await client.get(f"/api/v1/publicity/pricing/{publicity['id']}")).json()
    assert (suspended["status"], suspended["remaining_seconds"]) == ("suspended", left)

    # A week passes while the seller looks into it; the suspended period does not run out.
    decided_at = objected_at + timedelta(days=7)
    dismissed = await decided(client, db, w.admin, publicity["id"], filed.json()["id"], "dismiss", decided_at)
    assert dismissed.status_code == 200, dismissed.text
    resumed = dismissed.json()["publicity"]
    assert (resumed["status"], resumed["remaining_seconds"]) == ("running", None)
    assert (
        instant(resumed["ends_at"]) == decided_at + timedelta(seconds=left) == PERIOD_END + timedelta(days=7)
    )
    assert await notified(db, NotificationKind.publicity_objection_decided) == {w.outsider.user_id}
    again_ = await decided(client, db, w.seller, publicity["id"], filed.json()["id"], "uphold", decided_at)
    assert (again_.status_code, again_.json()["code"]) == (409, "objection_decided")

    # Before the new end the deal cannot be signed; after it, it can.
    with time_machine.travel(PERIOD_END + timedelta(days=6), tick=False):
        buyer = await again(client, db, w.buyer)
        early = await move(client, buyer, deal.id, S.signed)
    assert (early.status_code, early.json()["code"]) == (409, "publicity_not_completed")
    with time_machine.travel(PERIOD_END + timedelta(days=7, seconds=1), tick=False):
        buyer = await again(client, db, w.buyer)
        signed = await move(client, buyer, deal.id, S.signed)
    assert signed.status_code == 200, signed.text


async def test_a_second_objection_keeps_it_suspended_until_both_are_decided(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    _, publicity = await published(client, db, w)
    at = PUBLISHED + timedelta(days=1)
    first = (await objected(client, db, w.outsider, publicity["id"], at)).json()
    twice = await objected(client, db, w.outsider, publicity["id"], at)
    assert (twice.status_code, twice.json()["code"]) == (409, "objection_pending")
    second = (await objected(client, db, w.buyer, publicity["id"], at + timedelta(hours=1))).json()

    one = await decided(client, db, w.seller, publicity["id"], first["id"], "dismiss", at + timedelta(days=1))
    assert one.json()["publicity"]["status"] == "suspended"
    both = await decided(
        client, db, w.seller, publicity["id"], second["id"], "dismiss", at + timedelta(days=2)
    )
    assert both.json()["publicity"]["status"] == "running"
    assert instant(both.json()["publicity"]["ends_at"]) == PERIOD_END + timedelta(days=2)


async def test_after_the_period_an_objection_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    _, publicity = await published(client, db, w)
    late = await objected(client, db, w.outsider, publicity["id"], PERIOD_END)
    assert (late.status_code, late.json()["code"]) == (409, "publicity_ended")
    assert late.json()["current_status"] == "completed"


async def test_an_objection_needs_a_reason_and_its_document_is_checked(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    _, publicity = await published(client, db, w)
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        outsider = await again(client, db, w.outsider)
        url = f"/api/v1/publicity/pricing/{publicity['id']}/objections"
        blank = await client.post(url, data={"reason": "   "}, headers=outsider.headers)
        anonymous = await client.post(url, data={"reason": "价格偏低"})
        fake = await client.post(
            url,
            data={"reason": "价格偏低"},
            files={"file": ("评估.pdf", b"MZ\x90\x00", "application/pdf")},
            headers=outsider.headers,
        )
        with_pdf = await client.post(
            url,
            data={"reason": "价格偏低"},
            files={"file": ("评估报告.pdf", PDF, "application/pdf")},
            headers=outsider.headers,
        )
    assert (blank.status_code, blank.json()["errors"][0]["field"]) == (422, "reason")
    assert anonymous.status_code == 401
    assert (fake.status_code, fake.json()["code"]) == (415, "unsupported_document_type")
    assert with_pdf.status_code == 201, with_pdf.text
    assert (with_pdf.json()["document_name"], with_pdf.json()["document_content_type"]) == (
        "评估报告.pdf",
        "application/pdf",
    )

    # The seller side reads every objection and its document; the objector their own; others nothing.
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        seller, buyer = await again(client, db, w.seller), await again(client, db, w.buyer)
        objections = f"/api/v1/publicity/pricing/{publicity['id']}/objections"
        by_seller = (await client.get(objections, headers=seller.headers)).json()
        by_objector = (await client.get(objections, headers=outsider.headers)).json()
        by_buyer = (await client.get(objections, headers=buyer.headers)).json()
        document = f"{objections}/{with_pdf.json()['id']}/document"
        downloaded = await client.get(document, headers=seller.headers)
        hidden = await client.get(document, headers=buyer.headers)
    assert (
        [o["id"] for o in by_seller["items"]]
        == [with_pdf.json()["id"]]
        == [o["id"] for o in by_objector["items"]]
    )
    assert by_buyer["total"] == 0
    assert (downloaded.status_code, downloaded.content, downloaded.headers["content-type"]) == (
        200,
        PDF,
        "application/pdf",
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "objection_not_found")


async def test_only_the_seller_side_or_an_administrator_decides(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal, publicity = await published(client, db, w)
    at = PUBLISHED + timedelta(days=1)
    filed = (await objected(client, db, w.buyer, publicity["id"], at)).json()
    for stranger in (w.outsider, w.buyer):
        refused = await decided(client, db, stranger, publicity["id"], filed["id"], "uphold", at)
        assert (refused.status_code, refused.json()["code"]) == (403, "seller_side_only")
    await db.refresh(deal)
    assert deal.stage is S.agreed
    with time_machine.travel(at, tick=False):
        still = (await client.get(f"/api/v1/publicity/pricing/{publicity['id']}")).json()
    assert still["status"] == "suspended"


async def test_the_end_of_the_period_tells_the_parties_once(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    _, publicity = await published(client, db, w)
    with time_machine.travel(PERIOD_END - timedelta(seconds=1), tick=False):
        await completion.complete_all_due(app.state.database)
    assert await notified(db, NotificationKind.publicity_completed) == set()
    with time_machine.travel(PERIOD_END, tick=False):
        await completion.complete_all_due(app.state.database)
        await completion.complete_all_due(app.state.database)
        read = (await client.get(f"/api/v1/publicity/pricing/{publicity['id']}")).json()
        listed = (await client.get("/api/v1/publicity/pricing")).json()
    assert (read["status"], instant(read["completed_at"])) == ("completed", PERIOD_END)
    assert listed["total"] == 0
    told = await db.scalars(
        select(Notification.user_id).where(Notification.kind == NotificationKind.publicity_completed)
    )
    assert sorted(told) == sorted([w.seller.user_id, w.broker.user_id, w.buyer.user_id])
    actions = list(await db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == publicity["id"])))
    assert actions.count("complete") == 1


async def test_an_earlier_completed_publicity_does_not_outlive_a_later_upheld_objection(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed, agreed_price=PRICE)  # published once, period run out
    with time_machine.travel(PUBLISHED, tick=False):
        seller = await again(client, db, w.seller)
        second = await client.post(
            f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=seller.headers
        )
    assert second.status_code == 201, second.text
    filed = await objected(client, db, w.outsider, second.json()["id"], PUBLISHED + timedelta(days=1))
    upheld = await decided(
        client, db, w.seller, second.json()["id"], filed.json()["id"], "uphold", PUBLISHED + timedelta(days=2)
    )
    assert upheld.status_code == 200
    assert (await move(client, w.broker, deal.id, S.agreed)).status_code == 200
    refused = await move(client, w.buyer, deal.id, S.signed)
    assert (refused.status_code, refused.json()["code"]) == (409, "publicity_not_completed")
