"""Catalogue import: CSV, XLSX and JSON Lines; dry run; all-or-nothing or partial; limits."""

import asyncio
import io
import json

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.core.vocabulary import TechnologyField
from app.listings import importing, tabular
from app.listings.models import Achievement
from app.listings.schemas import AchievementCreate
from app.listings.vocabulary import IPKind, IPStatus, TransferMode
from app.outbox.models import OutboxMessage
from tests.listings.conftest import counts

URL = "/api/v1/achievements/import"
CSV_OK = (
    "title,description,field,keywords,maturity,asking_price,transfer_modes,region_code\n"
    "一种新型锂电池隔膜,提高隔膜耐热性,new_materials,隔膜;锂电池,6,120000.50,transfer;license_ordinary,320102\n"
    "水稻病虫害智能识别系统,基于图像识别病虫害,agriculture,水稻、病虫害,4,,pay_after_use,360102\n"
)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def _upload(client, who, name, content, **form):
    data = {k: str(v).lower() for k, v in form.items()}
    return await client.post(URL, files={"file": (name, content)}, data=data, headers=who.headers)


async def test_csv_import_writes_rows_audit_and_outbox(client, db, owner):
    who = await owner("achievements")
    response = await _upload(client, who, "catalogue.csv", CSV_OK.encode())
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2 and response.json()["invalid_rows"] == 0
    rows = (await db.execute(select(Achievement).order_by(Achievement.title))).scalars().all()
    battery = next(r for r in rows if r.field == "new_materials")
    assert str(battery.asking_price) == "120000.50" and battery.keywords == ["隔膜", "锂电池"]
    assert battery.transfer_modes == ["transfer", "license_ordinary"] and battery.status == "draft"
    assert {r.owner_organization_id for r in rows} == {who.user.organization_id}
    audits = (await db.execute(select(AuditEntry).where(AuditEntry.action == "imported"))).scalars().all()
    assert {a.object_id for a in audits} == {str(r.id) for r in rows}
    messages = (
        (await db.execute(select(OutboxMessage).where(OutboxMessage.topic == "listing.changed")))
        .scalars()
        .all()
    )
    assert {m.key for m in messages} == {f"achievement:{r.id}" for r in rows}


async def test_a_catalogue_uploaded_again_adds_only_what_is_new(client, db, owner):
    """The flow of a partial import: the valid rows go in, the report names the bad ones, the
    university corrects them and uploads the whole file again."""
    who = await owner("achievements")
    bad = CSV_OK + "坏行,描述,火星农业\n"
    first = await _upload(client, who, "catalogue.csv", bad.encode(), partial=True)
    assert first.status_code == 201 and first.json()["created"] == 2
    fixed = CSV_OK + "修正后的行,描述,agriculture\n" + "修正后的行,同一行又粘贴了一次,agriculture\n"
    dry = await _upload(client, who, "catalogue.csv", fixed.encode(), dry_run=True)
    assert dry.json()["valid_rows"] == 4 and len(dry.json()["duplicates"]) == 3
    before = await counts(db, Achievement)
    again = await _upload(client, who, "catalogue.csv", fixed.encode())
    assert again.status_code == 201, again.text
    report = again.json()
    assert report["created"] == 1 and report["valid_rows"] == 4 and report["invalid_rows"] == 0
    existing = {r.title: str(r.id) for r in (await db.execute(select(Achievement))).scalars()}
    assert [(d["row"], d["existing_id"]) for d in report["duplicates"]] == [
        (2, existing["一种新型锂电池隔膜"]),
        (3, existing["水稻病虫害智能识别系统"]),
        (5, None),  # repeats row 4 of the same file
    ]
    assert report["duplicates"][2]["message"] == "第 5 行：与第 4 行标题相同，未重复导入"
    after = await counts(db, Achievement)
    assert [b + 1 for b in before] == list(after)  # one listing, its audit entry, its outbox row
    # Another organization's listing of the same title is not this one's duplicate.
    other = await owner("achievements")
    theirs = await _upload(client, other, "catalogue.csv", CSV_OK.encode())
    assert theirs.json()["created"] == 2 and theirs.json()["duplicates"] == []


async def test_the_same_file_uploaded_twice_at_once_is_imported_once(client, db, owner):
    who = await owner("achievements")
    responses = await asyncio.gather(
        *(_upload(client, who, "catalogue.csv", CSV_OK.encode()) for _ in range(3))
    )
    assert [r.status_code for r in responses] == [201] * 3
    assert sorted(r.json()["created"] for r in responses) == [0, 0, 2]
    assert len((await db.execute(select(Achievement))).scalars().all()) == 2


async def test_xlsx_with_chinese_headers_and_labels(client, db, owner):
    who = await owner("achievements")
    content = _xlsx(
        [
            [
                "标题",
                "成果简介",
                "技术领域",
                "关键词",
                "技术成熟度",
                "转化方式",
                "意向价格",
                "知识产权",
                "联系人",
                "联系电话",
            ],
            [
                "耐盐碱水稻新品种",
                "适于沿海滩涂种植",
                "农业",
                "耐盐碱，水稻",
                8,
                "独占许可、作价投资",
                2500000,
                "植物新品种:CNA20201234:已授权",
                "王老师",
                "0791-88300000",
            ],
        ]
    )
    response = await _upload(client, who, "目录.xlsx", content, publish=True)
    assert response.status_code == 201, response.text
    assert response.json()["published"] == 1
    row = (await db.execute(select(Achievement))).scalar_one()
    assert row.field == "agriculture" and row.maturity == 8 and row.status == "published"
    assert row.transfer_modes == ["license_exclusive", "equity"]
    assert str(row.asking_price) == "2500000.00"
    assert row.ip_rights == [{"kind": "plant_variety", "number": "CNA20201234", "status": "granted"}]
    assert row.contacts == [{"name": "王老师", "phone": "0791-88300000", "email": None}]
    public = (await client.get(f"/api/v1/achievements/{row.id}")).json()
    assert public["status"] == "published" and public["contacts"] is None


async def test_jsonl_import(client, db, owner):
    who = await owner("achievements")
    lines = [
        {
            "title": "高温合金叶片",
            "description": "航空发动机叶片",
            "field": "aerospace",
            "keywords": ["叶片"],
        },
        {
            "title": "城市内涝预警",
            "description": "基于物联网",
            "field": "urban_social",
            "asking_price": "99.99",
        },
    ]
    content = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode()
    rows, audits, messages = await counts(db, Achievement)
    response = await _upload(client, who, "catalogue.jsonl", content)
    assert response.status_code == 201 and response.json()["created"] == 2
    assert await counts(db, Achievement) == (rows + 2, audits + 2, messages + 2)


async def test_dry_run_reports_and_writes_nothing(client, db, owner):
    who = await owner("achievements")
    before = await counts(db, Achievement)
    bad = CSV_OK + "坏行,描述,火星农业,,12,-5,,999999\n"
    response = await _upload(client, who, "c.csv", bad.encode(), dry_run=True)
    assert response.status_code == 200
    report = response.json()
    assert report["total_rows"] == 3 and report["valid_rows"] == 2 and report["created"] == 0
    messages = [e["message"] for e in report["errors"]]
    assert all(m.startswith("第 4 行") for m in messages)
    assert any("技术领域" in m for m in messages) and any("地区代码" in m for m in messages)
    assert any("意向价格" in m for m in messages) and any("技术成熟度" in m for m in messages)
    assert await counts(db, Achievement) == before


async def test_one_bad_row_rejects_the_file_unless_partial(client, db, owner):
    who = await owner("achievements")
    before = await counts(db, Achievement)
    bad = CSV_OK + "标题\x07,描述,agriculture,,,,,\n"
    response = await _upload(client, who, "c.csv", bad.encode())
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_rejected" and body["report"]["invalid_rows"] == 1
    assert "第 4 行" in body["errors"][0]["message"]
    assert await counts(db, Achievement) == before

    response = await _upload(client, who, "c.csv", bad.encode(), partial=True)
    assert response.status_code == 201
    assert response.json()["created"] == 2 and response.json()["invalid_rows"] == 1
    assert (await counts(db, Achievement))[0] == 2


async def test_unknown_column_is_an_error(client, db, owner):
    who = await owner("achievements")
    before = await counts(db, Achievement)
    response = await _upload(client, who, "c.csv", "title,description,colour\n标题,描述,red\n".encode())
    assert response.status_code == 422
    assert "colour" in response.json()["errors"][0]["message"]
    assert await counts(db, Achievement) == before


async def test_limits(client, db, owner, monkeypatch):
    who = await owner("achievements")
    before = await counts(db, Achievement)
    monkeypatch.setattr(importing, "MAX_IMPORT_ROWS", 5)
    many = "title,description,field\n" + "标题,描述,agriculture\n" * 6
    response = await _upload(client, who, "c.csv", many.encode())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
    assert "超过 5 行上限" in response.json()["detail"]
    huge = b"title\n" + b"x" * (importing.MAX_IMPORT_BYTES + 100 * 1024)
    response = await _upload(client, who, "c.csv", huge)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    response = await _upload(client, who, "c.pdf", b"%PDF-1.4")
    assert response.status_code == 415
    response = await _upload(client, who, "c.xlsx", b"not a zip file")
    assert response.status_code == 415
    assert await counts(db, Achievement) == before


async def test_row_numbers_and_cells_as_the_user_made_them(client, db, owner):
    who = await owner("achievements")
    # A blank line and a cell quoted across two lines still number rows as an editor shows them.
    csv_text = 'title,description,field\nA,"两行\n描述",agriculture\n\nB,描述,bogus\n'
    response = await _upload(client, who, "c.csv", csv_text.encode(), dry_run=True)
    (error,) = response.json()["errors"]
    assert error["row"] == 5 and error["field"] == "field"

    # A malformed 知识产权 cell names its column — a thousand "[" no longer exhaust the parser (500).
    for cell in ("[" * 5000, "[{"):
        bad = f'title,description,field,ip_rights\nA,描述,agriculture,"{cell}"\n'
        response = await _upload(client, who, "c.csv", bad.encode(), dry_run=True)
        assert response.status_code == 200, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["ip_rights"]

    # Excel stores 320102 and a grant number as numbers: they are their digits.
    content = _xlsx(
        [
            ["标题", "成果简介", "技术领域", "地区代码", "财政资金项目", "项目名称"],
            ["盐碱地改良剂", "改良滨海盐碱土", "农业", 320102, "是", 61972180],
        ]
    )
    response = await _upload(client, who, "目录.xlsx", content)
    assert response.status_code == 201, response.text
    row = (await db.execute(select(Achievement))).scalar_one()
    assert (row.region_code, row.funding_project) == ("320102", "61972180")


async def test_import_permissions(client, db, owner, signed_in):
    """Only a verified organization imports, a dry run included: reading a file costs the server
    work, and an unverified account is anyone who signed up."""
    unverified = await owner("achievements", verified=False)
    officer = await signed_in(role=Role.registration_officer)
    before = await counts(db, Achievement)
    for form in ({}, {"dry_run": True}, {"publish": True}, {"partial": True}):
        response = await _upload(client, unverified, "c.csv", CSV_OK.encode(), **form)
        assert response.status_code == 403, form
        assert response.json()["code"] == "organization_not_verified"
    assert (await _upload(client, officer, "c.csv", CSV_OK.encode())).status_code == 403
    assert (await client.post(URL, files={"file": ("c.csv", CSV_OK.encode())})).status_code == 401
    assert await counts(db, Achievement) == before


async def test_cells_as_catalogues_write_them(client, db, owner):
    """面议 is no price, amounts may carry thousands separators, 元 or 万, and an IP cell may read
    `发明专利 ZL202010111222.3`: with or without ZL or the check digit's dot, several per cell,
    or a bare patent number whose type digit gives the kind."""
    who = await owner("achievements")
    content = _xlsx(
        [
            ["成果名称", "意向价格", "知识产权"],
            ["面议的成果", "面议", "发明专利 ZL202010111222.3"],
            [
                "千分位的成果",
                "1,234,567.50",
                "发明专利 202010111222.3；实用新型 ZL2021203334445（申请中）\n"
                "外观设计:ZL202130555666.7:已授权",
            ],
            ["以万计的成果", "80万元", "ZL202010111222.3; 2021203334445"],
            ["议价的成果", "议价", "软件著作权 2020SR0123456 已失效"],
        ]
    )
    response = await _upload(client, who, "目录.xlsx", content)
    assert response.status_code == 201, response.text
    rows = {r.title: r for r in (await db.execute(select(Achievement))).scalars()}
    assert rows["面议的成果"].asking_price is None and rows["议价的成果"].asking_price is None
    assert str(rows["千分位的成果"].asking_price) == "1234567.50"
    assert str(rows["以万计的成果"].asking_price) == "800000.00"
    assert rows["面议的成果"].ip_rights == [
        {"kind": IPKind.invention_patent, "number": "ZL202010111222.3", "status": IPStatus.granted}
    ]
    assert rows["千分位的成果"].ip_rights == [
        {"kind": IPKind.invention_patent, "number": "202010111222.3", "status": IPStatus.granted},
        {"kind": IPKind.utility_model, "number": "ZL2021203334445", "status": IPStatus.applied},
        {"kind": IPKind.design_patent, "number": "ZL202130555666.7", "status": IPStatus.granted},
    ]
    assert [(r["kind"], r["number"]) for r in rows["以万计的成果"].ip_rights] == [
        (IPKind.invention_patent, "ZL202010111222.3"),
        (IPKind.utility_model, "2021203334445"),
    ]
    assert rows["议价的成果"].ip_rights == [
        {"kind": IPKind.software_copyright, "number": "2020SR0123456", "status": IPStatus.lapsed}
    ]

    # What is not a price or an IP right is still named, row and column.
    content = _xlsx([["标题", "意向价格", "知识产权"], ["坏行", "八十万", "一种方法"]])
    response = await _upload(client, who, "坏.xlsx", content, dry_run=True)
    messages = [e["message"] for e in response.json()["errors"]]
    assert any(m.startswith("第 2 行：意向价格") for m in messages)
    assert any(m.startswith("第 2 行：知识产权") for m in messages)


async def test_the_import_template_explains_every_column(client, db, owner):
    response = await client.get("/api/v1/achievements/import-template")  # no sign-in needed
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    catalogue, guide = load_workbook(io.BytesIO(response.content)).worksheets
    header, example = list(catalogue.iter_rows(values_only=True))
    assert list(header) == [tabular.COLUMN_NAMES[name] for name in AchievementCreate.model_fields]
    assert all(example)  # every column has an example
    explained = list(guide.iter_rows(values_only=True))
    assert [row[1] for row in explained[1:]] == list(AchievementCreate.model_fields)
    text = "\n".join(row[3] for row in explained[1:])
    for enum in (TechnologyField, TransferMode, IPKind, IPStatus):
        assert all(member.label in text for member in enum), enum
    assert "面议" in text and "发明专利 ZL202010111222.3" in text

    # The example row is a valid catalogue row as it stands.
    who = await owner("achievements")
    response = await _upload(client, who, "template.xlsx", response.content, dry_run=True)
    assert response.json()["valid_rows"] == 1 and response.json()["errors"] == []

    # The import's own description documents the same columns.
    described = (await client.get("/openapi.json")).json()["paths"][URL]["post"]["description"]
    assert all(tabular.COLUMN_NAMES[name] in described for name in AchievementCreate.model_fields)
    assert "面议" in described and "发明专利 ZL202010111222.3" in described
