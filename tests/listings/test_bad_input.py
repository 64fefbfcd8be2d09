"""Each kind of bad input answers 4xx naming the field, and writes nothing."""

from datetime import UTC, datetime

import pytest

from app.core import types
from app.listings.models import Achievement, Agency, Demand, Expert
from tests.listings.conftest import MINIMAL, counts

MODELS = {"achievements": Achievement, "demands": Demand, "experts": Expert, "agencies": Agency}

CASES = [
    ("achievements", {"field": "space_mining"}, "field"),
    ("achievements", {"transfer_modes": ["sell_everything"]}, "transfer_modes.0"),
    ("achievements", {"ip_rights": [{"kind": "trademark", "number": "1"}]}, "ip_rights.0.kind"),
    ("achievements", {"maturity": 10}, "maturity"),
    ("achievements", {"region_code": "999999"}, "region_code"),
    ("achievements", {"region_code": "32010"}, "region_code"),
    ("achievements", {"asking_price": "-1"}, "asking_price"),
    ("achievements", {"asking_price": "100.001"}, "asking_price"),
    ("achievements", {"asking_price": "100000000000000"}, "asking_price"),
    ("achievements", {"asking_price": 1e15}, "asking_price"),
    ("achievements", {"title": "长" * 201}, "title"),
    ("achievements", {"title": "标题\ufdd0"}, "title"),  # a noncharacter: search marks highlights with them
    ("achievements", {"description": "正常\x07文本"}, "description"),
    ("achievements", {"keywords": ["粗体\x1b[1m"]}, "keywords.0"),
    ("achievements", {"colour": "red"}, "colour"),
    ("achievements", {"contacts": [{"name": "王", "email": "not-an-email"}]}, "contacts.0.email"),
    ("achievements", {"valid_until": "2026-13-01"}, "valid_until"),
    ("demands", {"cooperation_modes": ["bribery"]}, "cooperation_modes.0"),
    ("demands", {"budget_min": "200", "budget_max": "100"}, "budget_min"),
    ("demands", {"budget_max": "1e14"}, "budget_max"),
    ("experts", {"fields": ["astrology"]}, "fields.0"),
    ("experts", {"phone": "call me"}, "phone"),
    ("experts", {"biography": "x" * 20_001}, "biography"),
    ("agencies", {"credit_code": "91320100MA0000000X"}, "credit_code"),
    ("agencies", {"service_kinds": ["lobbying"]}, "service_kinds.0"),
    ("agencies", {"regions_served": ["320100", "12345"]}, "regions_served.1"),
]


@pytest.mark.parametrize(("path", "bad", "field"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
async def test_bad_create(client, db, owner, path, bad, field):
    who = await owner(path)
    before = await counts(db, MODELS[path])
    response = await client.post(f"/api/v1/{path}", json={**MINIMAL[path], **bad}, headers=who.headers)
    assert 400 <= response.status_code < 500, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await counts(db, MODELS[path]) == before


@pytest.mark.parametrize(("path", "bad", "field"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
async def test_bad_update(client, db, owner, make_listing, path, bad, field):
    who = await owner(path)
    listing = await make_listing(path, who)
    before = await counts(db, MODELS[path])
    response = await client.patch(f"/api/v1/{path}/{listing['id']}", json=bad, headers=who.headers)
    assert 400 <= response.status_code < 500, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await counts(db, MODELS[path]) == before
    assert (await client.get(f"/api/v1/{path}/{listing['id']}")).json()["version"] == listing["version"]


async def test_clearing_a_required_field(client, db, owner, make_listing):
    who = await owner("achievements")
    listing = await make_listing("achievements", who)
    url = f"/api/v1/achievements/{listing['id']}"
    before = await counts(db, Achievement)
    response = await client.patch(url, json={"title": None}, headers=who.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title"
    # A published listing keeps what publishing needs.
    response = await client.patch(url, json={"field": None}, headers=who.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "field"
    assert await counts(db, Achievement) == before


async def test_publishing_needs_title_description_and_field(client, db, owner):
    who = await owner("achievements")
    created = await client.post("/api/v1/achievements", json={"title": "只有标题"}, headers=who.headers)
    assert created.status_code == 201
    response = await client.post(f"/api/v1/achievements/{created.json()['id']}/publish", headers=who.headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"description", "field"}


async def test_publishing_an_outdated_listing(client, owner):
    who = await owner("demands")
    created = await client.post(
        "/api/v1/demands", json={**MINIMAL["demands"], "deadline": "2020-01-01"}, headers=who.headers
    )
    response = await client.post(f"/api/v1/demands/{created.json()['id']}/publish", headers=who.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "deadline"


async def test_a_deadline_is_past_by_the_date_in_china(client, owner, monkeypatch):
    # 2026-12-01 23:30 UTC is 2026-12-02 07:30 in China: a demand due on 12-01 has expired there.
    late_evening_utc = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def]
            return late_evening_utc.astimezone(tz)

    monkeypatch.setattr(types, "datetime", Clock)
    who = await owner("demands")
    due = {**MINIMAL["demands"], "deadline": "2026-12-01"}
    created = await client.post("/api/v1/demands", json=due, headers=who.headers)
    response = await client.post(f"/api/v1/demands/{created.json()['id']}/publish", headers=who.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "deadline"
    later = await client.post("/api/v1/demands", json={**due, "deadline": "2026-12-02"}, headers=who.headers)
    assert (
        await client.post(f"/api/v1/demands/{later.json()['id']}/publish", headers=who.headers)
    ).status_code == 200


async def test_publicly_funded_achievement_names_its_project(client, owner):
    who = await owner("achievements")
    created = await client.post(
        "/api/v1/achievements", json={**MINIMAL["achievements"], "publicly_funded": True}, headers=who.headers
    )
    response = await client.post(f"/api/v1/achievements/{created.json()['id']}/publish", headers=who.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "funding_project"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("field=space", "field"),
        ("region=3", "region"),
        ("maturity_min=0", "maturity_min"),
        ("maturity_min=7&maturity_max=3", "maturity_min"),
        ("price_min=1.234", "price_min"),
        ("price_min=500&price_max=100", "price_min"),
        ("transfer_mode=gift", "transfer_mode.0"),
        ("status=deleted", "status"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-01-01T00:00:00", "updated_since"),
        ("sort=title", "sort"),
    ],
)
async def test_bad_filters(client, query, field):
    response = await client.get(f"/api/v1/achievements?{query}")
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_malformed_id(client):
    response = await client.get("/api/v1/achievements/not-a-uuid")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "listing_id"


async def test_text_a_user_pasted_is_stored_as_given(client, owner, make_listing):
    """Any "<" followed by a letter was refused: an abstract pasted from a web page (<br>) or a
    formula (p<q) could not be posted. Search highlights escape it (tests/search)."""
    who = await owner("achievements")
    description = "实验结果如下：<br>1 材料与方法\n当 p<q 时，算法收敛。"
    listing = await make_listing(
        "achievements", who, title="<SiO2>涂层的 p<q 条件", description=description, keywords=["<b>粗体</b>"]
    )
    url = f"/api/v1/achievements/{listing['id']}"
    response = await client.patch(url, json={"team": ["王<五>"]}, headers=who.headers)
    assert response.status_code == 200, response.text
    read = (await client.get(url, headers=who.headers)).json()
    assert (read["title"], read["description"], read["keywords"], read["team"]) == (
        "<SiO2>涂层的 p<q 条件",
        description,
        ["<b>粗体</b>"],
        ["王<五>"],
    )
