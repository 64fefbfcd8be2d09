"""`techex seed-demo` issues a transaction certificate for its companies' agreed deal and for every
demo deal whose pricing route's result stands (the universities' deals priced with publicity), once."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo import SEEDERS
from app.listings.cli import seed
from app.trading.certificates.demo import TITLE, seed_certificates
from app.trading.models import TransactionCertificate


async def test_seed_demo_certifies_the_companies_deal_once(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    assert SEEDERS.index(seed_certificates) > 0 and SEEDERS[-1] is seed_certificates
    quick = settings.model_copy(update={"demo_contracts": 150})
    first = await seed(app.state.database, quick)
    line = next(line for line in first if line.startswith("transaction certificates:"))
    issued = int(line.split(": ")[1].split(" ")[0])
    assert issued >= 1 and "JY-" in line, line
    certificates = (await db.execute(select(TransactionCertificate))).scalars().all()
    assert len(certificates) == issued
    certificate = next(c for c in certificates if c.content["project_title"] == TITLE)
    assert certificate.content["route_label"] == "协议成交"
    # The universities' deals were priced in public: their certificates say by which route.
    assert {c.content["route_label"] for c in certificates if c is not certificate} <= {"协议定价（公示）"}
    assert certificate.content["signed_on"] is not None and certificate.content["payment_terms"]
    public = (await client.get(f"/api/v1/transaction-certificates/{certificate.number}/verification")).json()
    assert public["status"] == "valid" and public["price"] == "680000.00"
    second = await seed(app.state.database, quick)
    assert "transaction certificates: 0 issued" in second
    assert (await db.execute(select(func.count()).select_from(TransactionCertificate))).scalar_one() == issued
