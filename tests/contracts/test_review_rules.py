"""Who sees a draft, and 补正 during expert review (issue 18 item 10)."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.contracts import helpers
from tests.contracts.helpers import step
from tests.contracts.test_transitions import LARGE, OPINION


async def test_officers_see_an_application_only_once_submitted(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.create(client, w)
    base = f"/api/v1/contracts/{app['id']}"
    for path in ("", "/history", "/document"):
        response = await client.get(base + path, headers=w.officer.headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "contract_not_found"
    listed = (await client.get("/api/v1/contracts", headers=w.officer.headers)).json()
    assert app["id"] not in [item["id"] for item in listed["items"]]
    response = await client.post(f"{base}/accept", headers=w.officer.headers)
    assert response.status_code == 404, response.text
    # The applicant and administrators still see their draft.
    assert (await client.get(base, headers=w.applicant.headers)).status_code == 200
    assert (await client.get(base, headers=w.admin.headers)).status_code == 200
    await step(client, w.applicant, app["id"], "submit")
    seen = await client.get(base, headers=w.officer.headers)
    assert seen.status_code == 200 and seen.json()["status"] == "submitted"


async def test_experts_may_ask_for_correction_and_the_contract_returns_to_them(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.under_review(client, w, **LARGE)
    assert app["status"] == "expert_review"
    await step(client, w.officer, app["id"], "expert-opinions", OPINION)
    asked = await step(
        client, w.officer, app["id"], "request-correction", {"items": ["专家要求：补充技术秘密清单"]}
    )
    assert asked["status"] == "correction_requested" and asked["due_on"] is None
    await step(client, w.applicant, app["id"], "resubmit")
    again = await step(client, w.officer, app["id"], "start-review")
    # Still large: back to expert review on its 30-working-day clock, the opinion kept.
    assert again["status"] == "expert_review" and len(again["expert_opinions"]) == 1
    done = await step(client, w.officer, app["id"], "register", {"technology_amount": "5000000.00"})
    assert done["status"] == "registered"
