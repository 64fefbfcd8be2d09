"""Handing a signed deal off to registration, and the registration's outcome moving the deal."""

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.contracts.models import ContractApplication
from app.contracts.vocabulary import ContractSubtype, ContractType, IPCategory
from app.contracts.workflow import Status
from app.core.types import today_in_china
from app.deals.handoff import mapping, outcome
from app.deals.models import Deal, DealStageEvent
from app.deals.vocabulary import DealStage
from app.listings.vocabulary import TransferMode
from app.outbox.models import OutboxMessage
from app.outbox.service import enqueue
from search.relay import Relay
from tests.contracts import helpers
from tests.contracts.helpers import Person, step, upload
from tests.deals.factory import DealWorld, deal_at, deal_world

BODY = {
    "valid_until": "2031-12-31",
    "socio_economic_objective": "能源生产、分配和合理利用",
    "expected_new_investment": "2000000.00",
    "expected_new_output": "5000000.00",
}


@dataclass
class World:
    deals: DealWorld
    officer: Person


async def world(client: httpx.AsyncClient, db: AsyncSession) -> World:
    """The deals' people, and the registration office of the seller's city with its officer."""
    office = await helpers.office(db, "320100", "01")
    return World(
        await deal_world(client, db), await helpers.person(client, db, Role.registration_officer, office)
    )


async def hand_off(
    client: httpx.AsyncClient, who: Person, deal: Deal, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/deals/{deal.id}/contract-application",
        json=BODY if body is None else body,
        headers=who.headers,
    )


async def settle(app: FastAPI, db: AsyncSession) -> None:
    """Run the outcome relay until every deal.registration message is processed (by it or by the
    app's own relay, which runs beside the tests)."""
    relay = Relay(app.state.database, {outcome.TOPIC: outcome.handler})
    pending = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.topic == outcome.TOPIC, OutboxMessage.processed_at.is_(None))
    )
    for _ in range(200):
        await relay.drain()
        if not (await db.execute(pending)).scalar_one():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deal.registration messages stayed unprocessed")


async def reread(db: AsyncSession, deal: Deal) -> Deal:
    return (
        await db.execute(select(Deal).where(Deal.id == deal.id).execution_options(populate_existing=True))
    ).scalar_one()


async def stages(db: AsyncSession, deal: Deal) -> list[tuple[DealStage | None, DealStage, str | None]]:
    rows = await db.execute(
        select(DealStageEvent.from_stage, DealStageEvent.to_stage, DealStageEvent.reason)
        .where(DealStageEvent.deal_id == deal.id)
        .order_by(DealStageEvent.id)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def submitted(client: httpx.AsyncClient, w: World, deal: Deal) -> dict[str, Any]:
    """Handed off by the seller, the document uploaded, submitted and accepted, under review."""
    response = await hand_off(client, w.deals.seller, deal)
    assert response.status_code == 201, response.text
    app_id = response.json()["id"]
    assert (await upload(client, w.deals.seller, app_id, f"合同 {app_id}".encode())).status_code == 200
    await step(client, w.deals.seller, app_id, "submit")
    await step(client, w.officer, app_id, "accept")
    return await step(client, w.officer, app_id, "start-review")


async def test_the_seller_hands_a_signed_deal_off_as_a_prefilled_draft(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)

    response = await hand_off(client, w.deals.seller, deal)

    assert response.status_code == 201, response.text
    app = response.json()
    seller, buyer = w.deals.seller_org, w.deals.buyer_org
    expected = {
        "status": "draft",
        "applicant_organization_id": str(seller.id),
        "contract_type": "transfer",
        "contract_subtype": "patent_right",  # the achievement's granted invention patent
        "project_name": w.deals.achievement.title,
        "is_import": False,
        "seller_name": seller.name,
        "seller_credit_code": seller.credit_code,
        "seller_region_code": "320102",
        "seller_kind": "university",
        "buyer_name": buyer.name,
        "buyer_credit_code": buyer.credit_code,
        "buyer_region_code": "320583",
        "buyer_kind": "enterprise",
        "stats_region_code": "320102",
        "signed_on": today_in_china().isoformat(),  # the deal entered `signed` today
        "valid_from": today_in_china().isoformat(),
        "valid_until": "2031-12-31",
        "ip_kind": "patent",
        "technology_field": "new_energy",
        "socio_economic_objective": "能源生产、分配和合理利用",
        "deal_id": str(deal.id),
        "achievement_id": str(w.deals.achievement.id),
        "demand_id": None,
        "allowed_actions": ["submit"],
    }
    assert {k: app[k] for k in expected} == expected
    amounts = (
        "contract_amount",
        "claimed_technology_amount",
        "expected_new_investment",
        "expected_new_output",
    )
    assert [Decimal(app[k]) for k in amounts] == [
        Decimal("800000.00"),
        Decimal("800000.00"),
        Decimal("2000000.00"),
        Decimal("5000000.00"),
    ]
    row = await db.get(ContractApplication, uuid.UUID(app["id"]))
    assert row is not None and row.contract_amount == Decimal("800000.00") and row.deal_id == deal.id
    deal = await reread(db, deal)
    assert (deal.stage, deal.contract_application_id) == (DealStage.signed, row.id)
    audited = await db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.object_id == str(deal.id), AuditEntry.action == "hand_off")
    )
    assert audited == 1


async def test_the_broker_hands_off_for_the_seller_who_then_completes_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    deductions = {"equipment": "100000.00", "materials": "0.50"}

    response = await hand_off(client, w.deals.broker, deal, {**BODY, "deductions": deductions})

    assert response.status_code == 201, response.text
    app = response.json()
    assert app["applicant_organization_id"] == str(w.deals.seller_org.id)
    assert Decimal(app["claimed_technology_amount"]) == Decimal("699999.50")
    assert app["allowed_actions"] == []  # the broker is not the applicant
    # The seller sees it and submits it as any application.
    assert (await upload(client, w.deals.seller, app["id"], b"contract")).status_code == 200
    assert (await step(client, w.deals.seller, app["id"], "submit"))["status"] == "submitted"


async def test_only_the_seller_side_and_the_broker_hand_off(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)

    for reader in (w.deals.buyer, w.deals.admin):
        response = await hand_off(client, reader, deal)
        assert (response.status_code, response.json()["code"]) == (403, "not_seller_side"), response.text
    response = await hand_off(client, w.deals.outsider, deal)
    assert (response.status_code, response.json()["code"]) == (404, "deal_not_found")
    response = await client.post(
        f"/api/v1/deals/{uuid.uuid4()}/contract-application", json=BODY, headers=w.deals.seller.headers
    )
    assert (response.status_code, response.json()["code"]) == (404, "deal_not_found")
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 0


@pytest.mark.parametrize("stage", [DealStage.agreed, DealStage.on_hold, DealStage.lost])
async def test_a_deal_not_signed_is_not_handed_off(
    client: httpx.AsyncClient, db: AsyncSession, stage: DealStage
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, stage)

    response = await hand_off(client, w.deals.seller, deal)

    assert response.status_code == 409, response.text
    assert (response.json()["code"], response.json()["current_status"]) == ("deal_not_signed", stage.value)
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 0


async def test_a_second_hand_off_names_the_first(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    first = (await hand_off(client, w.deals.seller, deal)).json()

    response = await hand_off(client, w.deals.broker, deal, {**BODY, "project_name": "另一个名称"})

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "already_handed_off"
    assert response.json()["application"] == {"id": first["id"], "status": "draft"}
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 1


async def test_concurrent_hand_offs_make_one_application(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)

    responses = await asyncio.gather(
        *(
            hand_off(client, who, deal, {**BODY, "project_name": f"项目{i}"})
            for i, who in enumerate([w.deals.seller, w.deals.broker] * 3)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_handed_off"}
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 1


async def test_every_field_the_deal_cannot_fill_is_named(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)

    response = await hand_off(client, w.deals.seller, deal, {})

    assert response.status_code == 422, response.text
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("valid_until", "required"),
        ("socio_economic_objective", "required"),
        ("expected_new_investment", "required_for_transfer"),
        ("expected_new_output", "required_for_transfer"),
    }
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 0


async def test_an_equity_deal_needs_the_contract_type_in_the_body(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    deal.transfer_mode = TransferMode.equity.value
    await db.commit()

    response = await hand_off(
        client, w.deals.seller, deal, {"valid_until": "2031-12-31", "socio_economic_objective": "工业"}
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("contract_type", "not_implied_by_transfer_mode")
    ]

    response = await hand_off(
        client,
        w.deals.seller,
        deal,
        {**BODY, "contract_type": "transfer", "contract_subtype": "other_right"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["contract_type"], response.json()["contract_subtype"]) == (
        "transfer",
        "other_right",
    )


async def test_a_deal_without_a_price_is_not_handed_off(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    deal.agreed_price = None
    await db.commit()

    response = await hand_off(client, w.deals.seller, deal)

    assert response.status_code == 409, response.text
    assert (response.json()["code"], response.json()["missing"]) == ("deal_incomplete", ["agreed_price"])
    assert await db.scalar(select(func.count()).select_from(ContractApplication)) == 0


async def test_the_contracts_rules_apply_to_the_seller_organization(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    w.deals.seller_org.verified = False
    await db.commit()

    response = await hand_off(client, w.deals.broker, deal)

    assert (response.status_code, response.json()["code"]) == (403, "organization_not_verified")
    assert (await reread(db, deal)).contract_application_id is None


async def test_a_client_cannot_write_deal_id(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    response = await client.post(
        "/api/v1/contracts",
        json=helpers.body(w.seller_org, deal_id=str(uuid.uuid4())),
        headers=w.applicant.headers,
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["deal_id"]


async def test_a_handed_off_deal_follows_its_registration(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    application = await submitted(client, w, deal)
    await settle(app, db)
    assert (await reread(db, deal)).stage == DealStage.registration_submitted

    registered = await step(
        client, w.officer, application["id"], "register", {"technology_amount": "700000.00"}
    )
    await settle(app, db)
    deal = await reread(db, deal)
    assert (deal.stage, deal.registration_number, deal.registered_on) == (
        DealStage.registered,
        registered["registration_number"],
        today_in_china(),
    )
    assert (deal.registered_contract_amount, deal.registered_technology_amount) == (
        Decimal("800000.00"),
        Decimal("700000.00"),
    )

    # 变更登记: the amounts in force follow; the stage stays.
    await step(
        client,
        w.officer,
        application["id"],
        "amend",
        {"contract_amount": "900000.00", "technology_amount": "750000.00", "reason": "补充协议"},
    )
    await settle(app, db)
    deal = await reread(db, deal)
    assert (deal.stage, deal.registered_contract_amount, deal.registered_technology_amount) == (
        DealStage.registered,
        Decimal("900000.00"),
        Decimal("750000.00"),
    )
    # 注销: the registration no longer holds the contract; the deal is signed again, without it.
    await step(client, w.officer, application["id"], "cancel", {"reason": "合同解除"})
    await settle(app, db)
    deal = await reread(db, deal)
    assert (deal.stage, deal.registration_number, deal.registered_technology_amount) == (
        DealStage.signed,
        None,
        None,
    )
    assert (await stages(db, deal))[-3:] == [
        (DealStage.signed, DealStage.registration_submitted, None),
        (DealStage.registration_submitted, DealStage.registered, None),
        (DealStage.registered, DealStage.signed, "登记已注销"),
    ]


async def test_a_refused_registration_returns_the_deal_to_signed_for_a_new_hand_off(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    first = await submitted(client, w, deal)
    await step(client, w.officer, first["id"], "refuse", {"reason": "合同主体不明确"})
    await settle(app, db)
    deal = await reread(db, deal)
    assert (deal.stage, deal.stage_reason) == (DealStage.signed, "不予登记：合同主体不明确")

    # A corrected contract (of another name, so the first one's objection below stays possible).
    again = await hand_off(client, w.deals.seller, deal, {**BODY, "project_name": "锂电池隔膜专利权转让"})
    assert again.status_code == 201, again.text
    # Signed on the day of the signing, not of the return after the refusal.
    assert again.json()["signed_on"] == today_in_china().isoformat()
    deal = await reread(db, deal)
    assert deal.contract_application_id == uuid.UUID(again.json()["id"])

    # The first application's objection moves the deal no more: it follows the second one.
    await step(client, w.deals.seller, first["id"], "object", {"reason": "补充了主体证明"})
    await settle(app, db)
    assert (await reread(db, deal)).stage == DealStage.signed


async def test_replayed_and_stale_messages_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    application = await submitted(client, w, deal)
    await step(client, w.officer, application["id"], "register", {"technology_amount": "700000.00"})
    await settle(app, db)
    history = await stages(db, deal)
    version = (await reread(db, deal)).version
    audits = select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == str(deal.id))
    audited = await db.scalar(audits)

    # The submission's message delivered again after the registration's, and the registration's twice.
    for status, app_version in ((Status.submitted, 2), (Status.registered, 6), (Status.registered, 6)):
        enqueue(
            db,
            topic=outcome.TOPIC,
            key=str(deal.id),
            payload={"application_id": application["id"], "status": status.value, "version": app_version},
        )
    await db.commit()
    await settle(app, db)

    deal = await reread(db, deal)
    assert (deal.stage, deal.version, deal.registered_technology_amount) == (
        DealStage.registered,
        version,
        Decimal("700000.00"),
    )
    assert await stages(db, deal) == history
    assert await db.scalar(audits) == audited


async def test_an_outcome_on_hold_or_lost(app: FastAPI, client: httpx.AsyncClient, db: AsyncSession) -> None:
    """A deal put on hold while its application is in the office stays on hold until the outcome
    changes its stage; a lost deal stays lost whatever the registration does."""
    w = await world(client, db)
    deal = await deal_at(db, w.deals, DealStage.signed)
    application = await submitted(client, w, deal)
    await settle(app, db)
    async with app.state.database.sessionmaker() as session:
        held = await outcome.repository.get_deal(session, deal.id, lock=True)
        assert held is not None
        await outcome.deals.enter_stage(session, held, DealStage.on_hold, actor=None, reason="等待付款")
        await session.commit()
    async with app.state.database.sessionmaker() as session:  # the submission's message again
        assert not await outcome.apply(session, deal.id, uuid.UUID(application["id"]))
        await session.commit()
    assert (await reread(db, deal)).stage == DealStage.on_hold

    await step(client, w.officer, application["id"], "register", {"technology_amount": "700000.00"})
    await settle(app, db)
    assert (await reread(db, deal)).stage == DealStage.registered


def test_transfer_modes_make_contract_types() -> None:
    granted = [{"kind": "invention_patent", "number": "ZL1", "status": "granted"}]
    pending = [{"kind": "utility_model", "number": "2023", "status": "applied"}]
    lapsed = [{"kind": "invention_patent", "number": "ZL2", "status": "lapsed"}]
    software = [{"kind": "software_copyright", "number": "2023SR1", "status": "granted"}]
    secret = [{"kind": "technical_secret", "number": "", "status": "granted"}]
    T, S = ContractType, ContractSubtype
    cases = [
        ("transfer", granted, (T.transfer, S.patent_right)),
        ("transfer", pending, (T.transfer, S.patent_application_right)),
        ("transfer", lapsed, None),
        ("transfer", software, (T.transfer, S.other_right)),
        ("transfer", secret, (T.transfer, S.technical_secret)),
        ("transfer", [], (T.transfer, S.technical_secret)),
        ("license_exclusive", granted, (T.licensing, S.exclusive)),
        ("license_sole", granted, (T.licensing, S.sole)),
        ("license_ordinary", granted, (T.licensing, S.ordinary)),
        ("pay_after_use", granted, (T.licensing, S.ordinary)),
        ("joint_development", [], (T.development, S.cooperative)),
        ("equity", granted, None),
        ("other", granted, None),
        (None, granted, None),
    ]
    assert [mapping.contract_kind(mode, rights) for mode, rights, _ in cases] == [k for _, _, k in cases]
    assert {m.value for m in TransferMode} <= {mode for mode, _, _ in cases}
    assert [mapping.ip_kind(r) for r in (granted, software, secret, [])] == [
        IPCategory.patent,
        IPCategory.software_copyright,
        IPCategory.technical_secret,
        IPCategory.none,
    ]


def test_every_application_status_moves_the_deal_along_its_path() -> None:
    assert mapping.STAGE_OF_STATUS[Status.draft] is DealStage.signed
    assert {s for s, stage in mapping.STAGE_OF_STATUS.items() if stage is DealStage.registered} == {
        Status.registered,
        Status.amendment_review,
    }
    assert {s for s, stage in mapping.STAGE_OF_STATUS.items() if stage is DealStage.signed} == {
        Status.draft,
        *mapping.RELEASED,
    }
