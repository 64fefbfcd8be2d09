"""The rewards report: registered contracts reached through deals, attributed to the deal's broker,
agency and parties, counted or excluded with why, exact to the fen, capped per beneficiary and year;
each caller sees their own rows; the XLSX holds the same figures."""

import io
from datetime import date
from decimal import Decimal

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role
from app.core.types import today_in_china
from tests.contracts import helpers as contracts
from tests.contracts.helpers import person, step
from tests.rewards.helpers import (
    LARGE,
    only,
    other_agency,
    registered_deal,
    report,
    reward_world,
    rule,
    section,
)


async def test_the_jiangsu_rule_rewards_the_agency_3_percent_of_the_certified_technology_amount(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    # 3 % of 12,345.50 is 370.365: rounded half up to 370.37 (banker's rounding would give 370.36).
    app, deal = await registered_deal(client, db, rw, "12345.50")
    row = only(await report(client, rw.admin, rw.year), jiangsu["id"])
    assert row["beneficiary"] == "agency"
    assert (
        row["beneficiary_id"] == str(rw.deals.agency.id) and row["beneficiary_name"] == rw.deals.agency.name
    )
    assert row["counted"] == [
        {
            "contract_application_id": app["id"],
            "registration_number": app["registration_number"],
            "deal_id": str(deal.id),
            "registered_on": app["registered_on"],
            "stats_region_code": "320102",
            "contract_amount": "1000000.00",
            "technology_amount": "12345.50",
            "reward_amount": "370.37",
        }
    ]
    assert row["excluded"] == []
    assert (row["amount_before_cap"], row["annual_cap"], row["amount_after_cap"]) == (
        "370.37",
        "1000000.00",
        "370.37",
    )
    # Another year, or a region the rule does not overlap, shows nothing of it.
    assert section(await report(client, rw.admin, rw.year - 1), jiangsu["id"])["beneficiaries"] == []
    assert (await report(client, rw.admin, rw.year, region="33"))["rules"] == []
    assert section(await report(client, rw.admin, rw.year, region="320102"), jiangsu["id"])


async def test_the_annual_cap_holds_across_the_contracts_of_a_year(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    for _ in range(3):  # 3 % of 15,000,000.00 each: 450,000.00
        await registered_deal(client, db, rw, "15000000.00", **LARGE)
    row = only(await report(client, rw.admin, rw.year), jiangsu["id"])
    assert [c["reward_amount"] for c in row["counted"]] == ["450000.00"] * 3
    assert row["amount_before_cap"] == "1350000.00"
    assert row["amount_after_cap"] == "1000000.00"


async def test_related_party_and_small_deals_are_excluded_with_why(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    # Jiangxi-like: sellers 1.5 %, deals under 500,000.00 元 excluded, by the contract amount (成交额).
    sellers = await rule(
        client, rw.admin, name="卖方奖励", beneficiary="seller", rate="0.015", annual_cap=None,
        minimum_contract_amount="500000.00",
    )  # fmt: skip
    related, related_deal = await registered_deal(client, db, rw, "300000.00")
    related_deal.related_party = True
    await db.commit()
    # 600,000.00 contract, 300,000.00 technology: counts (the minimum is compared with the contract amount).
    counted, _ = await registered_deal(
        client, db, rw, "300000.00", contract_amount="600000.00", claimed_technology_amount="300000.00",
        deductions={"equipment": "300000.00"},
    )  # fmt: skip
    small, _ = await registered_deal(
        client, db, rw, "400000.00", contract_amount="499999.99", claimed_technology_amount="400000.00",
        deductions={"equipment": "99999.99"},
    )  # fmt: skip
    result = await report(client, rw.admin, rw.year)

    agency = only(result, jiangsu["id"])
    assert [c["contract_application_id"] for c in agency["counted"]] == [counted["id"], small["id"]]
    assert [(c["contract_application_id"], c["reason"]) for c in agency["excluded"]] == [
        (related["id"], "related_party")
    ]
    assert agency["excluded"][0]["reason_label"] == "关联交易"
    assert agency["amount_after_cap"] == "21000.00"  # 9,000.00 + 12,000.00

    seller = only(result, sellers["id"])
    assert seller["beneficiary_id"] == str(rw.deals.seller_org.id)
    assert [c["reward_amount"] for c in seller["counted"]] == ["4500.00"]
    assert sorted((c["contract_application_id"], c["reason"]) for c in seller["excluded"]) == sorted(
        [(related["id"], "related_party"), (small["id"], "below_minimum")]
    )
    assert (seller["annual_cap"], seller["amount_after_cap"]) == (None, "4500.00")

    # A rule that does not exclude related parties counts the deal.
    await client.patch(
        f"/api/v1/rewards/rules/{sellers['id']}",
        json={"exclude_related_party": False},
        headers=rw.admin.headers,
    )
    seller = only(await report(client, rw.admin, rw.year), sellers["id"])
    assert [c["contract_application_id"] for c in seller["counted"]] == [related["id"], counted["id"]]


async def test_an_amended_contract_counts_its_amount_in_force(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    app, _ = await registered_deal(client, db, rw, "700000.00")
    amendment = {"contract_amount": "900000.00", "technology_amount": "650000.00", "reason": "补充协议"}
    await step(client, rw.contracts.officer, app["id"], "amend", amendment)
    row = only(await report(client, rw.admin, rw.year), jiangsu["id"])
    assert [(c["contract_amount"], c["technology_amount"], c["reward_amount"]) for c in row["counted"]] == [
        ("900000.00", "650000.00", "19500.00")
    ]


async def test_only_contracts_reached_through_a_brokered_deal_are_attributed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    await contracts.registered(client, rw.contracts, "500000.00")  # no deal: nobody's reward
    first, deal = await registered_deal(client, db, rw, "100000.00")
    second, _ = await registered_deal(client, db, rw, "200000.00", deal=deal)  # one reward per deal
    unbrokered, lead = await registered_deal(client, db, rw, "300000.00")
    lead.broker_user_id = lead.broker_agency_id = None
    await db.commit()
    result = await report(client, rw.admin, rw.year)

    row = only(result, jiangsu["id"])
    assert [c["contract_application_id"] for c in row["counted"]] == [first["id"]]
    assert [(c["contract_application_id"], c["reason"]) for c in row["excluded"]] == [
        (second["id"], "second_contract_of_deal")
    ]
    assert [
        (c["contract_application_id"], c["reason"]) for c in section(result, jiangsu["id"])["unattributed"]
    ] == [(unbrokered["id"], "no_broker")]
    assert row["amount_after_cap"] == "3000.00"


async def test_a_contract_outside_the_rules_region_or_period_is_excluded(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    nanjing = await rule(client, rw.admin, name="南京", region_code="3201")
    suzhou = await rule(client, rw.admin, name="苏州", region_code="3205")
    # One day of this year other than today (the registrations' day).
    day = date(rw.year, 1, 1) if today_in_china() != date(rw.year, 1, 1) else date(rw.year, 12, 31)
    ended = await rule(
        client, rw.admin, name="一日", region_code="33", valid_from=str(day), valid_until=str(day)
    )
    app, _ = await registered_deal(client, db, rw, "100000.00")  # registered in Nanjing (320102)
    result = await report(client, rw.admin, rw.year)
    assert [c["contract_application_id"] for c in only(result, nanjing["id"])["counted"]] == [app["id"]]
    assert section(result, suzhou["id"])["beneficiaries"] == []  # the agency has nothing in Suzhou
    assert section(result, ended["id"])["beneficiaries"] == []
    # The ended rule moved to Jiangsu (the city rules deleted: they would overlap it): the contract
    # is in its region but outside its period (one other day).
    for city in (nanjing, suzhou):
        deleted = await client.delete(f"/api/v1/rewards/rules/{city['id']}", headers=rw.admin.headers)
        assert deleted.status_code == 204
    moved = await client.patch(
        f"/api/v1/rewards/rules/{ended['id']}", json={"region_code": "32"}, headers=rw.admin.headers
    )
    assert moved.status_code == 200, moved.text
    row = only(await report(client, rw.admin, rw.year), ended["id"])
    assert [(c["contract_application_id"], c["reason"]) for c in row["excluded"]] == [
        (app["id"], "not_in_rule_region_or_period")
    ]


async def test_each_caller_sees_only_the_rows_that_pay_them(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin)
    brokers = await rule(client, rw.admin, name="技术经理人", beneficiary="technology_manager", rate="0.01")
    await registered_deal(client, db, rw, "100000.00")
    agency, broker = await other_agency(client, db)
    _, theirs = await registered_deal(client, db, rw, "200000.00")
    theirs.broker_user_id, theirs.broker_agency_id = broker.user_id, agency.id
    await db.commit()
    colleague = await person(client, db, Role.member, rw.deals.agency)

    def rows(result: dict, rule_id: str) -> list[str]:  # type: ignore[type-arg]
        return sorted(b["beneficiary_id"] for b in section(result, rule_id)["beneficiaries"])

    everything = await report(client, rw.admin, rw.year)
    assert rows(everything, jiangsu["id"]) == sorted([str(rw.deals.agency.id), str(agency.id)])
    for who in (rw.deals.broker, colleague):  # the agency's technology manager and member
        mine = await report(client, who, rw.year)
        assert rows(mine, jiangsu["id"]) == [str(rw.deals.agency.id)]
        assert section(mine, jiangsu["id"])["unattributed"] == []
    assert rows(await report(client, rw.deals.broker, rw.year), brokers["id"]) == [
        str(rw.deals.broker.user_id)
    ]
    assert rows(await report(client, colleague, rw.year), brokers["id"]) == []  # a person's reward is theirs
    assert rows(await report(client, broker, rw.year), jiangsu["id"]) == [str(agency.id)]
    stranger = await report(client, rw.deals.outsider, rw.year)
    assert [s["beneficiaries"] for s in stranger["rules"]] == [[], []]
    assert (await client.get("/api/v1/rewards", params={"year": rw.year})).status_code == 401


def _sheet(workbook, title: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[v or "" for v in row] for row in workbook[title].iter_rows(values_only=True)]


async def test_the_xlsx_holds_the_same_figures_as_the_json(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    rw = await reward_world(client, db)
    jiangsu = await rule(client, rw.admin, name='=HYPERLINK("http://evil")奖励')
    for amount in ("12345.50", "700000.00"):
        await registered_deal(client, db, rw, amount)
    _, deal = await registered_deal(client, db, rw, "100000.00")
    deal.related_party = True
    await db.commit()
    result = await report(client, rw.admin, rw.year)
    response = await client.get("/api/v1/rewards/export", params={"year": rw.year}, headers=rw.admin.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    summary, detail = _sheet(workbook, "汇总"), _sheet(workbook, "明细")

    row = only(result, jiangsu["id"])
    assert summary[0][0] == "规则" and summary[0][-1] == "封顶后金额（元）"
    assert summary[1:] == [
        [
            '\'=HYPERLINK("http://evil")奖励',  # text, never a formula
            jiangsu["id"],
            "32",
            "服务机构",
            row["beneficiary_id"],
            row["beneficiary_name"],
            "2",
            "1",
            "0.03",
            row["amount_before_cap"],
            row["annual_cap"],
            row["amount_after_cap"],
        ]
    ]
    amounts = ("registration_number", "contract_amount", "technology_amount")
    assert [(r[5], r[9], r[10], r[11], r[12], r[14]) for r in detail[1:]] == [
        *((*(c[k] for k in amounts), "计入", c["reward_amount"], "") for c in row["counted"]),
        *((*(c[k] for k in amounts), "不计", "", c["reason"]) for c in row["excluded"]),
    ]
    assert sum(Decimal(r[12]) for r in detail[1:] if r[11] == "计入") == Decimal(row["amount_before_cap"])
