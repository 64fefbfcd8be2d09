"""Every transition of the table through the API: the permitted role succeeds, every other role is
refused (403 if they see the application, 404 if they do not), illegal actions get 409."""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import ContractEvent
from app.contracts.workflow import TRANSITIONS, Action, Actor, Status, Transition
from tests.contracts import helpers
from tests.contracts.helpers import World, step

LARGE = {
    "contract_amount": "6000000.00",
    "claimed_technology_amount": "5000000.00",
    "deductions": {"equipment": "1000000.00"},
}
OPINION = {"expert_name": "王教授", "opinion": "技术属实，金额合理"}
# A change registration to a large technology amount: held for expert review before it takes effect.
LARGE_AMENDMENT = {"contract_amount": "90000000.00", "technology_amount": "80000000.00", "reason": "补充协议"}

CALLS: dict[Action, tuple[str, Any]] = {
    Action.submit: ("submit", None),
    Action.accept: ("accept", None),
    Action.request_correction: ("request-correction", {"items": ["合同盖章页"]}),
    Action.resubmit: ("resubmit", None),
    Action.start_review: ("start-review", None),
    Action.refer_to_experts: ("refer-to-experts", {"reason": "买方对技术内容有异议"}),
    Action.add_expert_opinion: ("expert-opinions", OPINION),
    Action.register: ("register", {"technology_amount": "700000.00"}),
    Action.refuse: ("refuse", {"reason": "不属于技术合同"}),
    Action.amend: (
        "amend",
        {"contract_amount": "900000.00", "technology_amount": "600000.00", "reason": "补充协议"},
    ),
    Action.reject_amendment: ("reject-amendment", {"reason": "专家认为变更后金额不实"}),
    Action.cancel: ("cancel", {"reason": "合同解除"}),
    Action.object: ("object", {"reason": "认定金额过低"}),
    Action.reopen: ("reopen", {}),
}


async def arrange(client: httpx.AsyncClient, w: World, state: Status) -> str:
    """An application in `state`, reached through the API."""
    large = state == Status.expert_review
    app = await helpers.create(client, w, **(LARGE if large else {}))
    i = app["id"]
    path = {
        Status.draft: [],
        Status.submitted: ["submit"],
        Status.accepted: ["submit", "accept"],
        Status.correction_requested: ["submit", "accept", "request_correction"],
        Status.resubmitted: ["submit", "accept", "request_correction", "resubmit"],
        Status.under_review: ["submit", "accept", "start_review"],
        Status.expert_review: ["submit", "accept", "start_review", "add_expert_opinion"],
        Status.registered: ["submit", "accept", "start_review", "register"],
        Status.refused: ["submit", "accept", "start_review", "refuse"],
        Status.objected: ["submit", "accept", "start_review", "refuse", "object"],
        Status.cancelled: ["submit", "accept", "start_review", "register", "cancel"],
        Status.amendment_review: [
            *("submit", "accept", "start_review", "register"),
            *("amend", "add_expert_opinion"),  # a large change, with an opinion
        ],
    }[state]
    for action in path:
        who = w.applicant if action in ("submit", "resubmit", "object") else w.officer
        url, payload = CALLS[Action(action)]
        if action == "amend":
            payload = LARGE_AMENDMENT
        await step(client, who, i, url, payload)
    current = (await client.get(f"/api/v1/contracts/{i}", headers=w.admin.headers)).json()
    assert current["status"] == state
    return i


def _capacity(name: str) -> Actor | None:
    return {"applicant": Actor.applicant, "officer": Actor.officer, "admin": Actor.admin}.get(name)


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: f"{t.source}-{t.action}")
async def test_transition(client: httpx.AsyncClient, db: AsyncSession, transition: Transition) -> None:
    if transition.actors == {Actor.system}:
        pytest.skip("automatic only")
    w = await helpers.world(client, db)
    app_id = await arrange(client, w, transition.source)
    url, payload = CALLS[transition.action]
    people = {
        "applicant": w.applicant,
        "officer": w.officer,
        "admin": w.admin,
        "other_officer": w.other_officer,
        "outsider": w.outsider,
    }
    events_before = (await db.execute(select(func.count()).select_from(ContractEvent))).scalar_one()
    permitted = [n for n in ("applicant", "officer", "admin") if _capacity(n) in transition.actors]
    for name, who in people.items():
        if name in permitted:
            continue
        response = await client.post(f"/api/v1/contracts/{app_id}/{url}", json=payload, headers=who.headers)
        hidden = name == "officer" and transition.source == Status.draft  # not before submission
        if name in ("other_officer", "outsider") or hidden:
            assert response.status_code == 404, (name, response.text)
        else:
            assert response.status_code == 403, (name, response.text)
            assert response.json()["code"] == "action_not_permitted"
    # Refusals wrote nothing.
    assert (await db.execute(select(func.count()).select_from(ContractEvent))).scalar_one() == events_before
    result = await step(client, people[permitted[0]], app_id, url, payload)
    expected = transition.target
    if transition.action == Action.start_review and transition.source in (
        Status.accepted,
        Status.resubmitted,
    ):
        expected = Status.under_review  # small contract: no automatic referral
    assert result["status"] == expected
    assert result["version"] > 1


@pytest.mark.parametrize("state", [Status.submitted, Status.registered, Status.cancelled, Status.refused])
async def test_illegal_actions_answer_409_with_the_allowed_ones(
    client: httpx.AsyncClient, db: AsyncSession, state: Status
) -> None:
    w = await helpers.world(client, db)
    app_id = await arrange(client, w, state)
    possible = {t.action for t in TRANSITIONS if t.source == state}
    for action in Action:
        if action in possible or action not in CALLS:  # refer_amendment: only as a large `amend`
            continue
        url, payload = CALLS[action]
        response = await client.post(
            f"/api/v1/contracts/{app_id}/{url}", json=payload, headers=w.officer.headers
        )
        assert response.status_code == 409, (action, response.text)
        problem = response.json()
        assert problem["code"] == "invalid_transition"
        # RFC 9457's `status` is the HTTP status; the application's own is an extension member.
        assert problem["status"] == 409 and problem["current_status"] == state.value
        expected = [t.action.value for t in TRANSITIONS if t.source == state and Actor.officer in t.actors]
        assert problem["allowed_actions"] == expected


async def test_large_contract_goes_to_expert_review_and_needs_an_opinion(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w, **LARGE)
    assert app["status"] == "expert_review"
    assert app["due_on"] > app["accepted_on"]
    history = (await client.get(f"/api/v1/contracts/{app['id']}/history", headers=w.officer.headers)).json()[
        "items"
    ]
    assert [(h["action"], h["actor_capacity"]) for h in history][-2:] == [
        ("start_review", "officer"),
        ("refer_to_experts", "system"),
    ]
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/register",
        json={"technology_amount": "1.00"},
        headers=w.officer.headers,
    )
    assert response.status_code == 409 and response.json()["code"] == "expert_review_required"
    await step(client, w.officer, app["id"], "expert-opinions", OPINION)
    done = await step(client, w.officer, app["id"], "register", {"technology_amount": "4800000.00"})
    assert done["status"] == "registered" and len(done["expert_opinions"]) == 1


async def test_a_contract_certified_over_the_threshold_needs_experts_though_claimed_under_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    claimed_small = {
        "contract_amount": "8000000.00",
        "claimed_technology_amount": "4000000.00",
        "deductions": {"equipment": "4000000.00"},
    }
    app = await helpers.under_review(client, w, **claimed_small)
    assert app["status"] == "under_review"  # claimed under 5,000,000
    large = {"technology_amount": "7000000.00"}
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/register", json=large, headers=w.officer.headers
    )
    assert response.status_code == 409 and response.json()["code"] == "expert_review_required"
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["status"] == "under_review" and current["registration_number"] is None
    await step(client, w.officer, app["id"], "refer-to-experts", {"reason": "认定技术交易额达到大额标准"})
    await step(client, w.officer, app["id"], "expert-opinions", OPINION)
    done = await step(client, w.officer, app["id"], "register", large)
    assert done["status"] == "registered" and done["registered_technology_amount"] == "7000000.00"


async def test_certified_amount_may_not_exceed_the_contract_amount(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w)
    response = await client.post(
        f"/api/v1/contracts/{app['id']}/register",
        json={"technology_amount": "1000000.01"},
        headers=w.officer.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "technology_amount"
    current = (await client.get(f"/api/v1/contracts/{app['id']}", headers=w.officer.headers)).json()
    assert current["status"] == "under_review" and current["registration_number"] is None


async def test_correction_moves_the_acceptance_date_and_objection_reopens(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w)
    number = app["registration_number"]
    objected = await step(client, w.applicant, app["id"], "object", {"reason": "认定金额过低"})
    assert objected["status"] == "objected"
    verification = (await client.get(f"/api/v1/certificates/{number}")).json()
    assert verification["status"] == "suspended"
    reopened = await step(client, w.officer, app["id"], "reopen", {"comment": "受理异议"})
    assert reopened["status"] == "under_review"
    again = await step(client, w.officer, app["id"], "register", {"technology_amount": "790000.00"})
    assert again["registration_number"] == number  # same registration, same number
    assert again["registered_technology_amount"] == "790000.00"
