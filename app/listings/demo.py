"""`techex seed-demo` for listings: real CSL abstracts as achievements, plus invented demands,
experts and agencies across Jiangsu and Jiangxi. Idempotent: rows already present (same owner,
same title or name) are skipped, so running it twice adds nothing."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from app.accounts.models import Organization
from app.audit.service import SystemActor
from app.core.config import Settings
from app.core.regions import is_current_region
from app.core.types import today_in_china
from app.listings import demo_data
from app.listings.events import record_changes_bulk
from app.listings.models import Achievement, Agency, Demand, Expert, ListingColumns
from app.listings.vocabulary import ListingStatus, TransferMode

DATA = Path(__file__).parent / "data" / "csl"


def _credit_code(name: str) -> str:
    digits = f"{uuid.uuid5(uuid.NAMESPACE_URL, name).int % 10**7:07d}"
    body = f"91{'32' if '江西' not in name else '36'}0100MA{digits}"
    return body + uscc.calc_check_digit(body)


async def _organizations(session: AsyncSession) -> dict[str, Organization]:
    names = [name for name, *_ in demo_data.ORGANIZATIONS]
    existing = {
        o.name: o
        for o in (await session.execute(select(Organization).where(Organization.name.in_(names)))).scalars()
    }
    now = datetime.now(UTC)
    for name, kind, region, _ in demo_data.ORGANIZATIONS:
        assert is_current_region(region), region
        if name not in existing:
            organization = Organization(
                id=uuid.uuid4(),
                name=name,
                kind=kind,
                region_code=region,
                credit_code=_credit_code(name),
                verified=True,
                verified_at=now,
            )
            session.add(organization)
            existing[name] = organization
    await session.flush()
    return existing


async def _insert_missing(
    session: AsyncSession, model: type[ListingColumns], name_attr: str, kind: str, rows: list[dict[str, Any]]
) -> int:
    """Insert the rows whose (owner, title/name) is not there yet, published, audited, announced."""
    column = getattr(model, name_attr)
    present = {(r[0], r[1]) for r in await session.execute(select(model.owner_organization_id, column))}
    now = datetime.now(UTC)
    fresh = [
        {**row, "id": uuid.uuid4(), "status": ListingStatus.published, "published_at": now, "version": 1}
        for row in rows
        if (row["owner_organization_id"], row[name_attr]) not in present
    ]
    for start in range(0, len(fresh), 500):
        batch = fresh[start : start + 500]
        await session.execute(insert(model), batch)
        await record_changes_bulk(
            session,
            actor=SystemActor(),
            kind=kind,
            action="imported",
            changes=[(row["id"], {"source": "seed-demo", "status": "published"}) for row in batch],
        )
    return len(fresh)


def _achievement_rows(organizations: dict[str, Organization]) -> list[dict[str, Any]]:
    keywords = dict(
        line.rstrip("\n").split("\t", 1) for line in (DATA / "keywords.tsv").open(encoding="utf-8")
    )
    owners_by_field: dict[str, list[Organization]] = {}
    for name, _, _, fields in demo_data.ORGANIZATIONS:
        for field in fields:
            owners_by_field.setdefault(field, []).append(organizations[name])
    everyone = [organizations[n] for n, _, _, fields in demo_data.ORGANIZATIONS if fields]
    rows = []
    for line in (DATA / "achievements.jsonl").open(encoding="utf-8"):
        paper = json.loads(line)
        rng = random.Random(paper["key"])  # noqa: S311 — demo figures, deterministic per paper
        owner = rng.choice(owners_by_field.get(paper["field"], everyone))
        price = None if rng.random() < 0.3 else Decimal(rng.randrange(5, 500) * 10_000)
        modes = rng.sample([m.value for m in TransferMode if m != TransferMode.other], k=rng.randint(1, 3))
        rows.append(
            {
                "title": paper["title"][:200],
                "description": paper["description"],
                "field": paper["field"],
                "keywords": [k[:50] for k in keywords.get(paper["key"], "").split()][:30],
                "maturity": rng.randint(2, 9),
                "transfer_modes": modes,
                "asking_price": price,
                "region_code": owner.region_code,
                "publicly_funded": rng.random() < 0.4,
                "owner_organization_id": owner.id,
                "contacts": [
                    {
                        "name": "成果转化办公室",
                        "phone": "025-8000" + f"{rng.randrange(10000):04d}",
                        "email": None,
                    }
                ],
                "ip_rights": [
                    {
                        "kind": "invention_patent",
                        "number": f"ZL2021{rng.randrange(10**7):07d}.X",
                        "status": "granted",
                    }
                ],
                "valid_until": (datetime.now(UTC) + timedelta(days=365 * 2)).date(),
            }
        )
        if rows[-1]["publicly_funded"]:
            rows[-1]["funding_project"] = "国家自然科学基金项目"
    return rows


async def seed_listings(session: AsyncSession, settings: Settings | None = None) -> str:
    organizations = await _organizations(session)
    today = today_in_china()
    achievements = await _insert_missing(
        session, Achievement, "title", "achievement", _achievement_rows(organizations)
    )
    demands = [
        {
            "title": title,
            "description": text,
            "field": field,
            "cooperation_modes": list(modes),
            "budget_min": Decimal(low * 10_000),
            "budget_max": Decimal(high * 10_000),
            "deadline": today + timedelta(days=60 + 15 * i),
            "confidential": confidential,
            "region_code": organizations[owner].region_code,
            "owner_organization_id": organizations[owner].id,
            "keywords": [],
            "contacts": [{"name": "技术部", "phone": "0512-6600" + f"{i:04d}", "email": None}],
        }
        for i, (owner, title, text, field, modes, (low, high), confidential) in enumerate(demo_data.DEMANDS)
    ]
    experts = [
        {
            "name": name,
            "professional_title": title,
            "institution": institution,
            "fields": list(fields),
            "services": list(services),
            "keywords": list(keywords),
            "biography": bio,
            "region_code": organizations[institution].region_code,
            "owner_organization_id": organizations[institution].id,
            "phone": f"1380000{i:04d}",
            "email": f"expert{i}@techex-demo.cn",
        }
        for i, (name, title, institution, fields, services, keywords, bio) in enumerate(demo_data.EXPERTS)
    ]
    agencies = [
        {
            "name": owner,
            "service_kinds": list(services),
            "regions_served": list(regions),
            "qualifications": list(qualifications),
            "keywords": list(keywords),
            "description": text,
            "region_code": organizations[owner].region_code,
            "owner_organization_id": organizations[owner].id,
            "credit_code": organizations[owner].credit_code,
            "contacts": [{"name": "业务部", "phone": "025-8477" + f"{i:04d}", "email": None}],
        }
        for i, (owner, services, regions, qualifications, keywords, text) in enumerate(demo_data.AGENCIES)
    ]
    counts = (
        achievements,
        await _insert_missing(session, Demand, "title", "demand", demands),
        await _insert_missing(session, Expert, "name", "expert", experts),
        await _insert_missing(session, Agency, "name", "agency", agencies),
    )
    return "listings: {} achievements, {} demands, {} experts, {} agencies added".format(*counts)
