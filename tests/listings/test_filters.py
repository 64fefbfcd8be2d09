"""List filters are exact, sorting is stable, pagination is the common one."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update

from app.accounts.models import OrganizationKind
from app.listings.models import Achievement


async def _titles(client, query, headers=None):
    response = await client.get(f"/api/v1/achievements?{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    return sorted(i["title"] for i in response.json()["items"])


async def test_achievement_filters(client, owner, make_listing):
    who = await owner("achievements")
    await make_listing(
        "achievements",
        who,
        title="南京电子",
        field="electronic_information",
        region_code="320102",
        maturity=3,
        asking_price="50000.00",
        transfer_modes=["transfer"],
    )
    await make_listing(
        "achievements",
        who,
        title="苏州材料",
        field="new_materials",
        region_code="320505",
        maturity=6,
        asking_price="800000.50",
        transfer_modes=["license_exclusive", "equity"],
    )
    await make_listing(
        "achievements",
        who,
        title="南昌农业",
        field="agriculture",
        region_code="360102",
        maturity=9,
        transfer_modes=["pay_after_use"],
        publicly_funded=True,
        funding_project="国家重点研发计划",
    )
    await make_listing(
        "achievements", who, publish=False, title="草稿", field="agriculture", region_code="360102"
    )

    assert await _titles(client, "field=agriculture") == ["南昌农业"]
    assert await _titles(client, "region=32") == ["南京电子", "苏州材料"]
    assert await _titles(client, "region=3201") == ["南京电子"]
    assert await _titles(client, "region=360102") == ["南昌农业"]
    assert await _titles(client, "maturity_min=4&maturity_max=8") == ["苏州材料"]
    assert await _titles(client, "maturity_min=6") == ["南昌农业", "苏州材料"]
    assert await _titles(client, "transfer_mode=equity&transfer_mode=pay_after_use") == [
        "南昌农业",
        "苏州材料",
    ]
    # 面议 (no price) never matches a price range.
    assert await _titles(client, "price_min=50000&price_max=800000.49") == ["南京电子"]
    assert await _titles(client, "price_min=800000.50") == ["苏州材料"]
    assert await _titles(client, "publicly_funded=true") == ["南昌农业"]
    assert await _titles(client, "field=agriculture&status=draft") == []
    assert await _titles(client, "status=draft&owner=me", who.headers) == ["草稿"]
    assert await _titles(client, "region=36&owner=me", who.headers) == ["南昌农业", "草稿"]


async def test_updated_since(client, db, owner, make_listing):
    who = await owner("achievements")
    old = await make_listing("achievements", who, title="旧成果")
    await make_listing("achievements", who, title="新成果")
    await db.execute(
        update(Achievement)
        .where(Achievement.id == old["id"])
        .values(updated_at=datetime.now(UTC) - timedelta(days=10))
    )
    await db.commit()
    since = quote((datetime.now(UTC) - timedelta(days=1)).isoformat())
    assert await _titles(client, f"updated_since={since}") == ["新成果"]


async def test_pagination_is_stable_and_complete(client, db, owner, make_listing):
    who = await owner("achievements")
    for n in range(7):
        await make_listing("achievements", who, title=f"成果{n}")
    # Equal timestamps: the id breaks the tie, so pages never overlap or skip.
    await db.execute(update(Achievement).values(updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    await db.commit()
    seen = []
    for offset in range(0, 8, 3):
        page = (await client.get(f"/api/v1/achievements?limit=3&offset={offset}")).json()
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    again = (await client.get("/api/v1/achievements?limit=3&offset=3")).json()
    assert [i["id"] for i in again["items"]] == seen[3:6]
    capped = (await client.get("/api/v1/achievements?limit=1000")).json()
    assert capped["limit"] == 50


async def test_sort_orders(client, owner, make_listing):
    who = await owner("achievements")
    first = await make_listing("achievements", who, title="先发布")
    second = await make_listing("achievements", who, title="后发布")
    newest = (await client.get("/api/v1/achievements?sort=-published_at")).json()["items"]
    assert [i["id"] for i in newest] == [second["id"], first["id"]]
    oldest = (await client.get("/api/v1/achievements?sort=updated_at")).json()["items"]
    assert [i["id"] for i in oldest] == [first["id"], second["id"]]


async def test_demand_expert_agency_filters(client, owner, signed_in, make_listing):
    company = await owner("demands")
    await make_listing(
        "demands",
        company,
        title="小预算",
        budget_min="10000",
        budget_max="50000",
        cooperation_modes=["consulting"],
    )
    await make_listing(
        "demands",
        company,
        title="大预算",
        budget_min="1000000",
        budget_max="5000000",
        cooperation_modes=["open_challenge", "joint_development"],
        field="advanced_manufacturing",
    )
    demands = (await client.get("/api/v1/demands?budget_min=40000&budget_max=100000")).json()["items"]
    assert [d["title"] for d in demands] == ["小预算"]
    demands = (await client.get("/api/v1/demands?cooperation_mode=open_challenge")).json()["items"]
    assert [d["title"] for d in demands] == ["大预算"]
    demands = (await client.get("/api/v1/demands?field=advanced_manufacturing")).json()["items"]
    assert [d["title"] for d in demands] == ["大预算"]

    one = await owner("experts")
    two = await signed_in(kind=OrganizationKind.research_institute)
    await make_listing("experts", one, name="农业专家", fields=["agriculture"], services=["evaluation"])
    await make_listing(
        "experts", two, name="材料专家", fields=["new_materials", "nuclear"], services=["tackling"]
    )
    experts = (await client.get("/api/v1/experts?field=nuclear")).json()["items"]
    assert [e["name"] for e in experts] == ["材料专家"]
    experts = (await client.get("/api/v1/experts?service=evaluation")).json()["items"]
    assert [e["name"] for e in experts] == ["农业专家"]

    agency = await owner("agencies")
    await make_listing(
        "agencies",
        agency,
        name="知识产权所",
        service_kinds=["intellectual_property"],
        regions_served=["320100", "320500"],
    )
    await make_listing(
        "agencies",
        agency,
        name="中试平台",
        service_kinds=["pilot_scale", "testing"],
        regions_served=["360100"],
    )
    agencies = (await client.get("/api/v1/agencies?serves=320500")).json()["items"]
    assert [a["name"] for a in agencies] == ["知识产权所"]
    agencies = (await client.get("/api/v1/agencies?service_kind=testing")).json()["items"]
    assert [a["name"] for a in agencies] == ["中试平台"]
