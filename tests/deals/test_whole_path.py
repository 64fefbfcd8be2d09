"""Issue 20's "Done when", as one trade through the API only, each step by the role that makes it in
real life: an enterprise's interest in a university's achievement, the university's acceptance, the
mandate of an agency's technology manager, the stages to `signed` with the agreed price published
(协议定价公示), the hand-off and registration, the outcome flowing back through the outbox, the
agency's reward and the market's figures."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import time_machine
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.core.types import today_in_china
from app.trading.publicity import completion
from tests.contracts.helpers import Person, step, upload
from tests.deals.factory import move
from tests.deals.test_handoff import BODY, settle, world
from tests.interests.helpers import expressed
from tests.rewards.helpers import JIANGSU

# 3 % of 1,234,567.89 is 37,037.0367: the report must say 37,037.04, rounded to the fen.
PRICE = Decimal("1234567.89")
# The application's form fields a PUT replaces (the parties are nested in it).
FORM = (
    "contract_type",
    "contract_subtype",
    "project_name",
    "is_import",
    "signed_on",
    "valid_from",
    "valid_until",
    "contract_amount",
    "claimed_technology_amount",
    "technology_field",
    "ip_kind",
    "socio_economic_objective",
    "expected_new_investment",
    "expected_new_output",
    "achievement_id",
    "demand_id",
)


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def mandate(client: httpx.AsyncClient, who: Person, deal: dict[str, Any], body: dict[str, Any]) -> Any:
    return await ok(
        await client.put(
            f"/api/v1/deals/{deal['id']}/mandate",
            json=body,
            headers={**who.headers, "If-Match": f'"{deal["version"]}"'},
        )
    )


async def test_an_interest_becomes_a_registered_deal_that_earns_the_agency_its_reward(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await world(client, db)
    d = w.deals
    seller, buyer, broker, officer = d.seller, d.buyer, d.broker, w.officer
    achievement_id = str(d.achievement.id)

    # The enterprise reads the achievement (a detail view) and expresses interest.
    await ok(await client.get(f"/api/v1/achievements/{achievement_id}", headers=buyer.headers))
    interest = await expressed(client, buyer, "achievement", achievement_id)
    assert interest["status"] == "open"

    # The university accepts: a deal opens between it (seller) and the enterprise (buyer).
    accepted = await ok(
        await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=seller.headers)
    )
    assert accepted["status"] == "accepted" and accepted["deal_id"]
    deal_id = accepted["deal_id"]
    deal = await ok(await client.get(f"/api/v1/deals/{deal_id}", headers=seller.headers))
    assert (deal["stage"], deal["seller_organization_id"], deal["buyer_organization_id"]) == (
        "lead",
        str(d.seller_org.id),
        str(d.buyer_org.id),
    )

    # The university mandates the agency's technology manager at 5 % commission, then moves on.
    deal = await mandate(
        client,
        seller,
        deal,
        {
            "engaged_by_organization_id": str(d.seller_org.id),
            "technology_manager_id": str(broker.user_id),
            "commission_rate": "0.05",
            "starts_on": today_in_china().isoformat(),
        },
    )
    assert (deal["broker_user_id"], deal["broker_agency_id"]) == (str(broker.user_id), str(d.agency.id))
    assert deal["mandate"]["commission_rate"] is not None
    assert (await ok(await move(client, seller, deal_id, "mandated")))["stage"] == "mandated"

    # The broker works it through diligence and negotiation to an agreed price and transfer mode.
    assert (await ok(await move(client, broker, deal_id, "diligence")))["stage"] == "diligence"
    assert (await ok(await move(client, broker, deal_id, "negotiating")))["stage"] == "negotiating"
    agreed = await ok(
        await move(client, broker, deal_id, "agreed", agreed_price=str(PRICE), transfer_mode="transfer")
    )
    assert (agreed["stage"], Decimal(agreed["agreed_price"]), agreed["transfer_mode"]) == (
        "agreed",
        PRICE,
        "transfer",
    )
    # The university publishes the agreed price; nobody objects and the period runs out (the
    # worker's round completes it on time).
    publicity = await ok(
        await client.post(f"/api/v1/deals/{deal_id}/pricing-publicity", json={}, headers=seller.headers), 201
    )
    listed = await ok(await client.get("/api/v1/publicity/pricing"))
    assert [(p["id"], Decimal(p["proposed_price"])) for p in listed["items"]] == [(publicity["id"], PRICE)]
    with time_machine.travel(datetime.fromisoformat(publicity["ends_at"]), tick=False):
        await completion.complete_all_due(app.state.database)
    publicity = await ok(await client.get(f"/api/v1/publicity/pricing/{publicity['id']}"))
    assert publicity["status"] == "completed"
    # A stale If-Match is refused; the current one lets the buyer record the signature.
    stale = await move(client, buyer, deal_id, "signed", if_match=f'"{agreed["version"] - 1}"')
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert (await ok(await move(client, buyer, deal_id, "signed")))["stage"] == "signed"

    # The broker hands it off; the university completes, uploads and submits it.
    application = await ok(
        await client.post(f"/api/v1/deals/{deal_id}/contract-application", json=BODY, headers=broker.headers),
        201,
    )
    app_id = application["id"]
    assert (application["deal_id"], Decimal(application["contract_amount"])) == (deal_id, PRICE)
    form = {k: application[k] for k in FORM} | {
        side: {k: application[f"{side}_{k}"] for k in ("name", "credit_code", "region_code", "kind")}
        for side in ("buyer", "seller")
    }
    completed = await ok(
        await client.put(
            f"/api/v1/contracts/{app_id}",
            json={**form, "project_name": "锂电池隔膜制备专利转让", "deductions": {}},
            headers={**seller.headers, "If-Match": f'"{application["version"]}"'},
        )
    )
    assert (completed["project_name"], completed["deal_id"]) == ("锂电池隔膜制备专利转让", deal_id)
    assert (await upload(client, seller, app_id, b"%PDF-1.4 contract")).status_code == 200
    assert (await step(client, seller, app_id, "submit"))["status"] == "submitted"

    # The registration officer accepts, reviews and registers it at the claimed amount.
    await step(client, officer, app_id, "accept")
    await step(client, officer, app_id, "start-review")
    registered = await step(client, officer, app_id, "register", {"technology_amount": str(PRICE)})
    assert registered["status"] == "registered"

    # The outcome reaches the deal through the outbox.
    await settle(app, db)
    deal = await ok(await client.get(f"/api/v1/deals/{deal_id}", headers=broker.headers))
    assert {
        k: deal[k] for k in ("stage", "contract_application_id", "registration_number", "registered_on")
    } == {
        "stage": "registered",
        "contract_application_id": app_id,
        "registration_number": registered["registration_number"],
        "registered_on": today_in_china().isoformat(),
    }
    assert [Decimal(deal[k]) for k in ("registered_contract_amount", "registered_technology_amount")] == [
        PRICE,
        PRICE,
    ]
    history = await ok(await client.get(f"/api/v1/deals/{deal_id}/history", headers=buyer.headers))
    assert [e["to_stage"] for e in history["items"]] == [
        "lead",
        "mandated",
        "diligence",
        "negotiating",
        "agreed",
        "signed",
        "registration_submitted",
        "registered",
    ]

    # The province's rewards count it for the agency: 3 % of the certified technology amount.
    rule = await ok(await client.post("/api/v1/rewards/rules", json=JIANGSU, headers=d.admin.headers), 201)
    year = today_in_china().year
    report = await ok(
        await client.get("/api/v1/rewards", params={"year": year, "region": "32"}, headers=d.admin.headers)
    )
    (section,) = [s for s in report["rules"] if s["rule"]["id"] == rule["id"]]
    (agency,) = section["beneficiaries"]
    assert (agency["beneficiary"], agency["beneficiary_id"], agency["excluded"]) == (
        "agency",
        str(d.agency.id),
        [],
    )
    (counted,) = agency["counted"]
    assert (counted["deal_id"], counted["registration_number"]) == (
        deal_id,
        registered["registration_number"],
    )
    assert Decimal(counted["reward_amount"]) == Decimal("37037.04")
    assert Decimal(agency["amount_after_cap"]) == Decimal("37037.04")

    # The market's figures count it: the funnel, the agency and its manager, the listing.
    funnel = await ok(await client.get("/api/v1/market/funnel?region=32", headers=d.outsider.headers))
    assert {s["step"]: s["count"] for s in funnel["steps"]} == {
        "interests": 1,
        "accepted": 1,
        "deals": 1,
        "mandated": 1,
        "agreed": 1,
        "signed": 1,
        "registered": 1,
    }
    brokers = await ok(await client.get("/api/v1/market/brokers", headers=broker.headers))
    (figures,) = brokers["agencies"]
    (manager,) = brokers["technology_managers"]
    for f in (figures, manager):
        assert (f["interests_handled"], f["interests_registered"], f["registered_deals"]) == (1, 1, 1)
        assert Decimal(f["registered_technology_amount"]) == PRICE
        assert {s: n for s, n in f["deals_by_stage"].items() if n} == {"registered": 1}
    listing = await ok(
        await client.get(f"/api/v1/market/listings/achievement/{achievement_id}", headers=seller.headers)
    )
    assert (listing["views"]["total"], listing["interests"]["accepted"], listing["registered_deals"]) == (
        1,
        1,
        1,
    )
    assert Decimal(listing["registered_technology_amount"]) == PRICE

    # A stranger does not learn the deal exists.
    hidden = await client.get(f"/api/v1/deals/{deal_id}", headers=d.outsider.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "deal_not_found")

    # Every step is in the audit log, in order (the outbox's steps run beside the requests, so
    # each object's own trail is compared).
    rows = (await db.execute(select(AuditEntry.object_id, AuditEntry.action).order_by(AuditEntry.id))).all()
    trail = {
        name: [a for o, a in rows if o == id_]
        for id_, name in ((interest["id"], "interest"), (deal_id, "deal"), (app_id, "application"))
    }
    assert trail == {
        "interest": ["expressed", "accepted"],
        "deal": [
            "open",
            "mandate",
            "stage:mandated",
            "stage:diligence",
            "stage:negotiating",
            "update",  # the agreed terms
            "stage:agreed",
            "update",  # the pricing route: agreed price with publicity
            "stage:signed",
            "hand_off",
            "stage:registration_submitted",
            "stage:registered",
            "registration",
        ],
        "application": [
            "create",
            "update",
            "attach_document",
            "submit",
            "accept",
            "start_review",
            "register",
        ],
    }
