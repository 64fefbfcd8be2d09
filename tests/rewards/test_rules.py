"""Reward rules: administrators manage them, every change audited; a rule overlapping another for
the same beneficiary in region and period is refused, also when both arrive at once."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.rewards.models import RewardRule
from tests.contracts.helpers import person
from tests.fixtures.accounts import create_organization
from tests.rewards.helpers import JIANGSU, rule

RULES = "/api/v1/rewards/rules"


async def _admin(client: httpx.AsyncClient, db: AsyncSession):  # type: ignore[no-untyped-def]
    government = await create_organization(db, kind=OrganizationKind.government, region_code="320000")
    return await person(client, db, Role.admin, government)


async def _count(db: AsyncSession) -> int:
    await db.rollback()
    return (await db.execute(select(func.count()).select_from(RewardRule))).scalar_one()


async def test_an_administrator_creates_reads_changes_and_deletes_a_rule_each_audited(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _admin(client, db)
    created = await rule(client, admin, rate=0.03, source="征求意见稿")  # a JSON number stays exact
    assert created["rate"] == "0.03"
    assert created["annual_cap"] == "1000000.00"
    assert created["valid_until"] is None and created["minimum_contract_amount"] is None
    assert created["exclude_related_party"] is True and created["version"] == 1
    url = f"{RULES}/{created['id']}"
    assert (await client.get(url, headers=admin.headers)).json() == created
    listed = (await client.get(RULES, headers=admin.headers)).json()
    assert listed["total"] == 1 and listed["items"] == [created]

    changed = await client.patch(
        url, json={"rate": "0.025", "annual_cap": None, "valid_until": "2027-12-31"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rate"] == "0.025" and changed.json()["annual_cap"] is None
    assert changed.json()["valid_until"] == "2027-12-31" and changed.json()["version"] == 2
    refused = await client.patch(url, json={"rate": None}, headers=admin.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "rate"

    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    gone = await client.get(url, headers=admin.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "reward_rule_not_found"
    assert (await client.delete(url, headers=admin.headers)).status_code == 404

    actions = (
        await db.execute(
            select(AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.object_type == "reward_rule", AuditEntry.object_id == created["id"])
            .order_by(AuditEntry.id)
        )
    ).all()
    assert [a for a, _ in actions] == ["create", "update", "delete"]
    assert actions[1][1]["rate"] == ["0.030000", "0.025"] and actions[1][1]["annual_cap"] == [
        "1000000.00",
        None,
    ]


@pytest.mark.parametrize(
    ("fields", "overlaps"),
    [
        ({"region_code": "3201"}, True),  # a city inside the province
        ({"region_code": "320102", "valid_from": "2030-01-01", "valid_until": "2030-12-31"}, True),
        ({"region_code": "33"}, False),  # another province
        ({"beneficiary": "technology_manager"}, False),  # another beneficiary
        ({"valid_from": "2020-01-01", "valid_until": "2023-12-31"}, False),  # before it starts
        ({"valid_from": "2020-01-01", "valid_until": "2024-01-01"}, True),  # one day in common
    ],
)
async def test_a_rule_overlapping_another_for_the_same_beneficiary_is_refused_naming_it(
    client: httpx.AsyncClient, db: AsyncSession, fields: dict[str, str], overlaps: bool
) -> None:
    admin = await _admin(client, db)
    jiangsu = await rule(client, admin)
    response = await client.post(RULES, json={**JIANGSU, "name": "另一规则", **fields}, headers=admin.headers)
    if not overlaps:
        assert response.status_code == 201, response.text
        return
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "reward_rule_overlap"
    assert problem["overlapping_rule"] == {"id": jiangsu["id"], "name": JIANGSU["name"]}
    assert {e["field"] for e in problem["errors"]} == {"region_code", "valid_from", "valid_until"}
    assert await _count(db) == 1


async def test_a_change_that_would_overlap_another_rule_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _admin(client, db)
    jiangsu = await rule(client, admin, valid_until="2025-12-31")
    later = await rule(client, admin, name="2026 起", valid_from="2026-01-01")
    response = await client.patch(
        f"{RULES}/{later['id']}", json={"valid_from": "2025-06-01"}, headers=admin.headers
    )
    assert response.status_code == 422 and response.json()["overlapping_rule"]["id"] == jiangsu["id"]
    # Its own period is no overlap: a rule may be changed within it.
    same = await client.patch(
        f"{RULES}/{later['id']}", json={"valid_from": "2026-02-01"}, headers=admin.headers
    )
    assert same.status_code == 200, same.text


async def test_of_overlapping_rules_created_at_once_exactly_one_passes(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _admin(client, db)
    regions = ["32", "3201", "320102"] * 3  # each a prefix of another: every two overlap
    responses = await asyncio.gather(
        *(
            client.post(
                RULES, json={**JIANGSU, "name": f"规则{n}", "region_code": region}, headers=admin.headers
            )
            for n, region in enumerate(regions)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * (len(regions) - 1), [r.text for r in responses]
    assert all(r.json()["code"] == "reward_rule_overlap" for r in responses if r.status_code == 422)
    assert await _count(db) == 1


async def test_only_administrators_write_or_read_rules(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await _admin(client, db)
    created = await rule(client, admin)
    office = await create_organization(db, kind=OrganizationKind.registration_office, region_code="320100")
    agency = await create_organization(db, kind=OrganizationKind.agency, region_code="320106")
    others = [
        await person(client, db, Role.registration_officer, office),
        await person(client, db, Role.tech_manager, agency),
        await person(client, db, Role.member, agency),
    ]
    url = f"{RULES}/{created['id']}"
    for other in others:
        for response in (
            await client.post(RULES, json={**JIANGSU, "region_code": "33"}, headers=other.headers),
            await client.patch(url, json={"rate": "1"}, headers=other.headers),
            await client.delete(url, headers=other.headers),
            await client.get(RULES, headers=other.headers),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "role_required"
    assert (await client.post(RULES, json={**JIANGSU, "region_code": "33"})).status_code == 401
    assert await _count(db) == 1
    assert (await client.get(url, headers=admin.headers)).json() == created  # unchanged


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rate": "0"}, "rate"),
        ({"rate": "1.01"}, "rate"),
        ({"rate": "0.0000001"}, "rate"),
        ({"annual_cap": "-1"}, "annual_cap"),
        ({"annual_cap": "1.001"}, "annual_cap"),
        ({"minimum_contract_amount": "-0.01"}, "minimum_contract_amount"),
        ({"region_code": "3"}, "region_code"),
        ({"region_code": "32010"}, "region_code"),
        ({"beneficiary": "inventor"}, "beneficiary"),
        ({"valid_until": "2023-12-31"}, "valid_until"),  # before valid_from
        ({"name": " "}, "name"),
    ],
)
async def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, db: AsyncSession, fields: dict[str, str], field: str
) -> None:
    admin = await _admin(client, db)
    response = await client.post(RULES, json={**JIANGSU, **fields}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await _count(db) == 0
