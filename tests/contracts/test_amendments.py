"""A change registration to a large amount goes through expert review before it takes effect, and
the registration in force keeps counting meanwhile; a reopened objection on a large contract gets
expert review's 30 working days (issue 18 item 5)."""

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.service import deadline
from app.stats.queries import GroupBy, totals
from tests.contracts import helpers
from tests.contracts.helpers import World, step
from tests.contracts.test_transitions import LARGE, LARGE_AMENDMENT, OPINION


async def _counted(db: AsyncSession) -> list[tuple[int, str, str]]:
    """What the statistics count for Nanjing (summary tables) and for the seller's district (the
    contracts themselves): (count, contract amount, technology amount) each."""
    await db.rollback()  # a fresh snapshot of what the API committed
    out = []
    for prefix in ("3201", "320102"):
        groups = await totals(db, GroupBy.total, prefixes=[prefix])
        group = groups[0] if groups else None
        out.append(
            (group.count, f"{group.contract_amount:.2f}", f"{group.technology_amount:.2f}")
            if group
            else (0, "0.00", "0.00")
        )
    return out


def _plus(counted: list[tuple[int, str, str]], contract: str, technology: str) -> list[tuple[int, str, str]]:
    return [
        (n, f"{Decimal(c) + Decimal(contract):.2f}", f"{Decimal(t) + Decimal(technology):.2f}")
        for n, c, t in counted
    ]


async def _public(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    return (await client.get(f"/api/v1/certificates/{number}")).json()


async def _registered_at_800000(client: httpx.AsyncClient, w: World) -> dict[str, Any]:
    return await helpers.registered(client, w, amount="800000.00")


async def test_a_change_to_a_large_amount_waits_for_experts_and_the_registration_keeps_counting(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await _registered_at_800000(client, w)
    number = app["registration_number"]
    counted = await _counted(db)
    held = await step(client, w.officer, app["id"], "amend", LARGE_AMENDMENT)
    assert held["status"] == "amendment_review"
    assert held["pending_contract_amount"] == "90000000.00"
    assert held["pending_technology_amount"] == "80000000.00"
    assert held["registered_technology_amount"] == "800000.00" and held["amendment_count"] == 0
    expected = await deadline(db, date.fromisoformat(held["accepted_on"]), 30)
    assert held["due_on"] == expected.due_on.isoformat()
    history = (await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.officer.headers)).json()[
        "items"
    ]
    assert (history[-1]["action"], history[-1]["actor_capacity"]) == ("refer_amendment", "system")
    # In force at its registered amounts until the change takes effect: statistics, certificate, 公示.
    assert await _counted(db) == counted
    public = await _public(client, number)
    assert public["status"] == "valid" and public["technology_amount"] == "800000.00"
    assert public["certificate_version"] == 1
    pdf = await client.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.applicant.headers)
    assert pdf.status_code == 200
    listed = (await client.get("/api/v1/publicity/contracts?region=320102&limit=100")).json()["items"]
    assert [i["technology_amount"] for i in listed if i["registration_number"] == number] == ["800000.00"]
    # Not without an opinion; no objection or cancellation meanwhile.
    early = await client.post(
        f"/api/v1/contracts/{app['id']}/amend", json=LARGE_AMENDMENT, headers=w.officer.headers
    )
    assert early.status_code == 409 and early.json()["code"] == "expert_review_required"
    cancel = await client.post(
        f"/api/v1/contracts/{app['id']}/cancel", json={"reason": "合同解除"}, headers=w.officer.headers
    )
    assert cancel.status_code == 409 and cancel.json()["code"] == "invalid_transition"
    assert await _counted(db) == counted
    await step(client, w.officer, app["id"], "expert-opinions", OPINION)
    done = await step(client, w.officer, app["id"], "amend", LARGE_AMENDMENT)
    assert done["status"] == "registered" and done["amendment_count"] == 1
    assert done["registered_technology_amount"] == "80000000.00"
    assert done["pending_contract_amount"] is None and done["pending_technology_amount"] is None
    assert await _counted(db) == _plus(counted, "89000000.00", "79200000.00")
    public = await _public(client, number)
    assert public["status"] == "amended" and public["certificate_version"] == 2


async def test_a_rejected_change_leaves_the_registration_as_it_was(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await _registered_at_800000(client, w)
    counted = await _counted(db)
    await step(client, w.officer, app["id"], "amend", LARGE_AMENDMENT)
    await step(client, w.officer, app["id"], "expert-opinions", OPINION)
    refused = await step(
        client, w.officer, app["id"], "reject-amendment", {"reason": "专家认为变更后金额不实"}
    )
    assert refused["status"] == "registered" and refused["amendment_count"] == 0
    assert refused["registered_contract_amount"] == "1000000.00"
    assert refused["registered_technology_amount"] == "800000.00"
    assert refused["pending_technology_amount"] is None
    assert await _counted(db) == counted
    public = await _public(client, app["registration_number"])
    assert public["status"] == "valid" and public["certificate_version"] == 1
    # A small change still takes effect at once.
    small = {"contract_amount": "900000.00", "technology_amount": "600000.00", "reason": "补充协议"}
    assert (await step(client, w.officer, app["id"], "amend", small))["status"] == "registered"


async def test_a_reopened_objection_on_a_large_contract_counts_30_working_days(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    large = await helpers.registered(client, w, amount="5000000.00", **LARGE)
    small = await helpers.registered(client, w)
    for app, days in ((large, 30), (small, 15)):
        await step(client, w.applicant, app["id"], "object", {"reason": "认定金额有误"})
        reopened = await step(client, w.officer, app["id"], "reopen", {})
        expected = await deadline(db, date.fromisoformat(reopened["accepted_on"]), days)
        assert reopened["due_on"] == expected.due_on.isoformat(), days
