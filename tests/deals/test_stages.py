"""The stage table (as data, without a database) and moves through the API: who may make each,
the guards, on hold / lost / resume, If-Match, and races on one deal and across sixteen brokers."""

import asyncio
from datetime import date
from decimal import Decimal
from itertools import pairwise

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.audit.service import SystemActor
from app.core.errors import InvalidTransition
from app.deals import service, stages
from app.deals.models import Deal, DealStageEvent, Mandate
from app.deals.stages import Mover
from app.deals.vocabulary import CLOSED_STAGES, DealStage
from tests.contracts.helpers import person
from tests.deals.factory import (
    PATH,
    completed_publicity,
    deal_at,
    deal_world,
    etag,
    move,
    published_achievement,
)

S = DealStage
PEOPLE = frozenset({Mover.seller, Mover.buyer, Mover.broker, Mover.admin})


# --- The table, without a database -------------------------------------------------------------


def test_no_person_enters_the_registration_stages() -> None:
    for target in (S.registration_submitted, S.registered):
        entering = [m for m in stages.MOVES if m.target is target and not m.resume]
        assert entering and all(m.movers == {Mover.system} for m in entering), target
    assert stages.allowed(S.signed, None, PEOPLE) == [S.on_hold, S.lost]
    assert stages.allowed(S.signed, None, {Mover.system}) == [S.registration_submitted, S.on_hold, S.lost]


def test_every_open_stage_may_be_held_or_lost_with_a_reason_and_closed_ones_go_nowhere() -> None:
    for stage in S:
        targets = stages.allowed(stage, S.negotiating, PEOPLE | {Mover.system})
        if stage in CLOSED_STAGES:
            assert targets == [], stage
            continue
        assert S.lost in targets, stage
        assert (S.on_hold in targets) is (stage is not S.on_hold), stage
    assert all(m.needs_reason for m in stages.MOVES if m.target in (S.on_hold, S.lost))


def test_a_deal_on_hold_resumes_only_where_it_was() -> None:
    assert stages.allowed(S.on_hold, S.diligence, {Mover.buyer}) == [S.lost, S.diligence]
    refused = None
    try:
        stages.resolve(S.on_hold, S.diligence, S.signed, {Mover.admin})
    except stages.MoveRefused as exc:
        refused = exc
    assert refused is not None and refused.allowed == [S.lost, S.diligence]


def test_the_working_moves_are_the_brokers_and_administrators() -> None:
    assert stages.allowed(S.mandated, None, {Mover.seller, Mover.buyer}) == [S.on_hold, S.lost]
    assert stages.allowed(S.mandated, None, {Mover.broker}) == [S.diligence, S.on_hold, S.lost]
    assert stages.allowed(S.lead, None, {Mover.seller}) == [S.mandated, S.on_hold, S.lost]
    assert stages.allowed(S.agreed, None, {Mover.buyer}) == [S.signed, S.on_hold, S.lost]


@given(
    stage=st.sampled_from(list(S)),
    held_from=st.none() | st.sampled_from(list(stages.OPEN_WORKING_STAGES)),
    target=st.sampled_from(list(S)),
    movers=st.frozensets(st.sampled_from(list(Mover))),
)
def test_a_move_resolves_exactly_when_the_409_would_list_it(
    stage: DealStage, held_from: DealStage | None, target: DealStage, movers: frozenset[Mover]
) -> None:
    listed = stages.allowed(stage, held_from, movers)
    try:
        move_ = stages.resolve(stage, held_from, target, movers)
    except stages.MoveRefused as refused:
        assert target not in listed and refused.allowed == listed
    else:
        assert target in listed and move_.movers & movers
        assert stage not in CLOSED_STAGES and target is not stage
        if target in (S.registration_submitted, S.registered) and not move_.resume:
            assert Mover.system in movers


# --- Through the API ---------------------------------------------------------------------------


async def test_a_deal_goes_from_lead_to_signed_with_its_history(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.lead)
    mandate = await client.put(
        f"/api/v1/deals/{deal.id}/mandate",
        json={
            "engaged_by_organization_id": str(w.seller_org.id),
            "technology_manager_id": str(w.broker.user_id),
            "commission_rate": "0.03",
            "starts_on": date.today().isoformat(),
        },
        headers={**w.seller.headers, "If-Match": await etag(client, w.seller, deal.id)},
    )
    assert mandate.status_code == 200, mandate.text
    assert (await move(client, w.seller, deal.id, S.mandated)).status_code == 200
    assert (await move(client, w.broker, deal.id, S.diligence)).status_code == 200
    assert (await move(client, w.broker, deal.id, S.negotiating)).status_code == 200
    agreed = await move(
        client, w.broker, deal.id, S.agreed, agreed_price="750000.00", transfer_mode="license_ordinary"
    )
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["agreed_price"], agreed.json()["transfer_mode"]) == (
        "750000.00",
        "license_ordinary",
    )
    # The university seller's price was published and its period ran out (app/trading/guards.py).
    await db.refresh(deal)
    completed_publicity(db, deal)
    await db.commit()
    signed = await move(client, w.buyer, deal.id, S.signed, reason="双方已签字")
    assert signed.status_code == 200, signed.text
    assert signed.json()["stage"] == "signed" and signed.headers["ETag"] == f'"{signed.json()["version"]}"'

    history = (await client.get(f"/api/v1/deals/{deal.id}/history", headers=w.seller.headers)).json()
    assert [(e["from_stage"], e["to_stage"]) for e in history["items"]] == [
        (None, "lead"),
        *((a.value, b.value) for a, b in pairwise(PATH[:6])),
    ]
    assert history["items"][-1]["actor_user_id"] == str(w.buyer.user_id)
    assert history["items"][-1]["reason"] == "双方已签字"
    audited = (
        await db.execute(
            select(AuditEntry.action).where(AuditEntry.object_id == str(deal.id)).order_by(AuditEntry.id)
        )
    ).scalars()
    assert [a for a in audited if a.startswith("stage:")] == [f"stage:{s.value}" for s in PATH[1:6]]


async def test_an_illegal_move_lists_the_moves_allowed_to_the_caller(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.mandated)
    version = await etag(client, w.broker, deal.id)
    skip = await move(client, w.broker, deal.id, S.agreed)
    assert skip.status_code == 409
    assert skip.json()["code"] == "invalid_stage_transition"
    assert skip.json()["allowed"] == ["diligence", "on_hold", "lost"]
    assert skip.json()["current_status"] == "mandated"
    # The seller may not make the broker's working move; the system's stages are nobody's.
    by_seller = await move(client, w.seller, deal.id, S.diligence)
    assert (by_seller.status_code, by_seller.json()["allowed"]) == (409, ["on_hold", "lost"])
    by_admin = await move(client, w.admin, deal.id, S.registered)
    assert (by_admin.status_code, by_admin.json()["allowed"]) == (409, ["diligence", "on_hold", "lost"])
    # A stranger learns nothing, not even that the deal exists.
    assert (await move(client, w.outsider, deal.id, S.lost, reason="x", if_match=version)).status_code == 404
    assert await etag(client, w.broker, deal.id) == version  # nothing written


async def test_the_registration_stages_are_the_systems(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal_id = (await deal_at(db, w, S.signed)).id
    for who, stage in ((w.admin, S.registration_submitted), (w.broker, S.registered)):
        refused = await move(client, who, deal_id, stage)
        assert (refused.status_code, refused.json()["allowed"]) == (409, ["on_hold", "lost"])
    # The service itself moves along the same table, and only where the table lets it.
    skipped = None
    try:
        await service.move_as_system(db, deal_id, S.registered)
    except InvalidTransition as exc:
        skipped = exc
    assert skipped is not None and skipped.extra["allowed"] == ["registration_submitted", "on_hold", "lost"]
    await db.rollback()
    await service.move_as_system(db, deal_id, S.registration_submitted, reason="已提交认定登记申请")
    await db.commit()
    history = (await client.get(f"/api/v1/deals/{deal_id}/history", headers=w.seller.headers)).json()["items"]
    assert (history[-1]["to_stage"], history[-1]["actor_user_id"]) == ("registration_submitted", None)


async def test_mandated_needs_a_mandate_in_force_today(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.lead)
    bare = await move(client, w.admin, deal.id, S.mandated)
    assert (bare.status_code, bare.json()["code"]) == (409, "mandate_required")
    # A mandate that starts next year is not in force yet.
    db.add(
        Mandate(
            deal_id=deal.id,
            engaged_by_organization_id=w.seller_org.id,
            technology_manager_id=w.broker.user_id,
            agency_organization_id=w.agency.id,
            commission_rate=Decimal("0.03"),
            starts_on=date(date.today().year + 1, 1, 1),
        )
    )
    await db.commit()
    later = await move(client, w.admin, deal.id, S.mandated)
    assert (later.status_code, later.json()["code"]) == (409, "mandate_required")
    assert (await db.get(Deal, deal.id, populate_existing=True)).stage is S.lead  # type: ignore[union-attr]


async def test_agreed_needs_a_price_and_a_transfer_mode(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.negotiating)
    missing = await move(client, w.broker, deal.id, S.agreed, agreed_price="500000.00")
    assert (missing.status_code, missing.json()["code"]) == (422, "terms_required")
    assert [e["field"] for e in missing.json()["errors"]] == ["transfer_mode"]
    row = await db.get(Deal, deal.id, populate_existing=True)
    assert row is not None and row.agreed_price is None  # the refused move wrote nothing
    # Terms go with a move to agreed only.
    early = await move(client, w.broker, deal.id, S.on_hold, reason="x", agreed_price="1.00")
    assert (early.status_code, early.json()["errors"][0]["field"]) == (422, "agreed_price")
    patched = await client.patch(
        f"/api/v1/deals/{deal.id}",
        json={"agreed_price": "500000", "transfer_mode": "transfer"},
        headers={**w.seller.headers, "If-Match": await etag(client, w.seller, deal.id)},
    )
    assert patched.status_code == 200, patched.text
    assert (await move(client, w.broker, deal.id, S.agreed)).status_code == 200


async def test_signed_needs_both_parties(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.agreed)
    row = await db.get(Deal, deal.id)
    assert row is not None
    row.buyer_organization_id = None
    await db.commit()
    refused = await move(client, w.seller, deal.id, S.signed)
    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["field"]) == ("parties_required", "buyer_organization_id")


async def test_hold_resume_and_lose_with_a_reason(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.diligence)
    no_reason = await move(client, w.buyer, deal.id, S.on_hold)
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (422, "reason")
    held = await move(client, w.buyer, deal.id, S.on_hold, reason="等待董事会批准预算")
    assert held.status_code == 200, held.text
    assert (held.json()["held_from_stage"], held.json()["stage_reason"]) == (
        "diligence",
        "等待董事会批准预算",
    )
    assert held.json()["allowed_moves"] == ["lost", "diligence"]
    wrong = await move(client, w.broker, deal.id, S.negotiating)
    assert (wrong.status_code, wrong.json()["allowed"]) == (409, ["lost", "diligence"])
    resumed = await move(client, w.seller, deal.id, S.diligence)
    assert (resumed.status_code, resumed.json()["held_from_stage"]) == (200, None)
    lost = await move(client, w.seller, deal.id, S.lost, reason="买方转向其他技术")
    assert lost.status_code == 200 and lost.json()["allowed_moves"] == []
    after = await move(client, w.admin, deal.id, S.diligence)
    assert (after.status_code, after.json()["allowed"], after.json()["current_status"]) == (409, [], "lost")


async def test_a_move_needs_the_current_version_in_if_match(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.mandated)
    url = f"/api/v1/deals/{deal.id}/stage"
    bare = await client.post(url, json={"to": "diligence"}, headers=w.broker.headers)
    assert (bare.status_code, bare.json()["code"]) == (428, "precondition_required")
    stale = await client.post(url, json={"to": "diligence"}, headers={**w.broker.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == int((await etag(client, w.broker, deal.id)).strip('"'))
    garbled = await client.post(url, json={"to": "diligence"}, headers={**w.broker.headers, "If-Match": "v2"})
    assert (garbled.status_code, garbled.json()["errors"][0]["field"]) == (422, "If-Match")
    row = await db.get(Deal, deal.id, populate_existing=True)
    assert row is not None and row.stage is S.mandated
    # `*` says "whatever the version" (RFC 9110): an explicit choice, not an omission.
    anyway = await client.post(url, json={"to": "diligence"}, headers={**w.broker.headers, "If-Match": "*"})
    assert (anyway.status_code, anyway.json()["stage"]) == (200, "diligence")


async def _count(db: AsyncSession, model: type, *where: object) -> int:
    return (await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one()  # type: ignore[arg-type]


async def test_sixteen_moves_with_the_same_version_exactly_one_wins(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, S.negotiating)
    version = await etag(client, w.broker, deal.id)
    people = [w.broker, w.admin, w.seller, w.buyer] * 4
    responses = await asyncio.gather(
        *(
            move(client, p, deal.id, S.on_hold, reason=f"暂停 {i}", if_match=version)
            for i, p in enumerate(people)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] + [412] * 15, [r.text for r in responses]
    events = await _count(
        db, DealStageEvent, DealStageEvent.deal_id == deal.id, DealStageEvent.to_stage == S.on_hold
    )
    audited = await _count(
        db, AuditEntry, AuditEntry.object_id == str(deal.id), AuditEntry.action == "stage:on_hold"
    )
    assert (events, audited) == (1, 1)
    row = await db.get(Deal, deal.id, populate_existing=True)
    assert row is not None and row.version == int(version.strip('"')) + 1


async def test_sixteen_brokers_moving_their_own_deals_at_once_lose_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    brokers = [w.broker] + [await person(client, db, Role.tech_manager, w.agency) for _ in range(15)]
    deals = []
    for i, broker in enumerate(brokers):
        achievement = await published_achievement(db, w.seller_org, title=f"成果 {i}")
        deal = await service.open_deal(
            db,
            actor=SystemActor(),
            title=achievement.title,
            seller_organization_id=w.seller_org.id,
            buyer_organization_id=w.buyer_org.id,
            achievement_id=achievement.id,
            stage=S.mandated,
            broker_user_id=broker.user_id,
            broker_agency_id=w.agency.id,
        )
        deals.append(deal)
    await db.commit()
    walk = (S.diligence, S.negotiating, S.agreed)

    async def carry(broker: object, deal: Deal) -> list[int]:
        codes = []
        for stage in walk:
            body = {"agreed_price": "100000.00", "transfer_mode": "transfer"} if stage is S.agreed else {}
            codes.append((await move(client, broker, deal.id, stage, **body)).status_code)  # type: ignore[arg-type]
        return codes

    results = await asyncio.gather(*(carry(b, d) for b, d in zip(brokers, deals, strict=True)))
    assert results == [[200, 200, 200]] * 16
    for deal in deals:
        events = (
            await db.execute(
                select(DealStageEvent.to_stage)
                .where(DealStageEvent.deal_id == deal.id)
                .order_by(DealStageEvent.id)
            )
        ).scalars()
        assert list(events) == [S.mandated, *walk]
        audited = (
            await db.execute(
                select(AuditEntry.action).where(
                    AuditEntry.object_id == str(deal.id), AuditEntry.action.like("stage:%")
                )
            )
        ).scalars()
        assert sorted(audited) == sorted(f"stage:{s.value}" for s in walk)
        row = await db.get(Deal, deal.id, populate_existing=True)
        assert row is not None and (row.stage, row.version) == (S.agreed, 4)
