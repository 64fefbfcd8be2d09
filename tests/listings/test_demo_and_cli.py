"""`techex seed-demo` loads once, and the lists and filters then show something."""

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.listings.cli import expire, seed
from app.listings.models import Achievement, Agency, Demand, Expert


async def _count(db, model):
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_seed_demo_is_idempotent(app, client, db):
    first = await seed(app.state.database)
    assert any("714 achievements" in line for line in first)
    totals = [await _count(db, m) for m in (Achievement, Demand, Expert, Agency)]
    audits = await _count(db, AuditEntry)
    second = await seed(app.state.database)
    assert any("0 achievements, 0 demands, 0 experts, 0 agencies" in line for line in second)
    assert [await _count(db, m) for m in (Achievement, Demand, Expert, Agency)] == totals
    assert await _count(db, AuditEntry) == audits
    assert totals[0] == 714 and all(t > 5 for t in totals)

    for query, at_least in (
        ("/api/v1/achievements?field=agriculture&region=36", 5),
        ("/api/v1/achievements?region=32&maturity_min=7", 5),
        ("/api/v1/achievements?transfer_mode=license_exclusive&price_max=1000000", 5),
        ("/api/v1/demands?cooperation_mode=open_challenge", 2),
        ("/api/v1/experts?field=agriculture", 2),
        ("/api/v1/agencies?service_kind=technology_transfer", 2),
    ):
        assert (await client.get(query)).json()["total"] >= at_least, query
    confidential = (await client.get("/api/v1/demands?limit=50")).json()["items"]
    assert any(d["confidential"] and d["owner_organization_name"] is None for d in confidential)
    assert await expire(app.state.database) == {"achievement": 0, "demand": 0}
