"""The public pages' fixtures: registered contracts and a target to show, and a real headless
Chromium (Debian's package, installed here where missing) driven by Playwright."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import SystemActor
from app.core.config import Settings
from app.core.types import today_in_china
from app.stats.models import Metric
from app.stats.service import TargetCreate, create_target
from tests.conftest import PROJECT_ROOT
from tests.search.conftest import engine, indexed, make_listing, owner  # noqa: F401 (fixtures)
from tests.stats import factory

CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# Debian packages: the browser, and a CJK font so its screenshots show Chinese (a reader's phone has one).
PACKAGES = {"chromium": CHROMIUM, "fonts-wqy-microhei": CJK_FONT}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / ".test-output" / "screenshots"


def install_browser() -> None:
    """apt-get the packages missing (CI runs as root on a fresh Debian); otherwise fail loudly: the
    browser tests are part of the suite, never skipped."""
    missing = [package for package, path in PACKAGES.items() if not path.exists()]
    if not missing:
        return
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        pytest.fail(f"the browser tests need Debian's packages: apt-get install {' '.join(missing)}")
    command = [apt, "install", "-y", "--no-install-recommends", *missing]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=environment, capture_output=True, check=False).returncode:
        subprocess.run([apt, "update"], env=environment, capture_output=True, check=False)
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode:
            pytest.fail(f"apt-get install {' '.join(missing)} failed:\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[BrowserContext]:
    """One Chromium for the run, with a fresh profile; never a browser Playwright downloads."""
    install_browser()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="techex-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=FLAGS, locale="zh-CN", headless=True
            )
            try:
                yield context
            finally:
                await context.close()


@dataclass
class Seeded:
    target_id: str
    since: date
    until: date


# (seller region, days before today, type, field, contract amount, technology amount)
CONTRACTS = [
    ("320102", 3, "development", "new_energy", "1000000.00", "800000.50"),
    ("320102", 40, "transfer", "electronic_information", "2500000.00", "2500000.00"),
    ("320505", 10, "service", "new_energy", "123456.78", "100000.01"),
    ("320505", 70, "development", "biomedicine", "30000000.00", "12000000.00"),
    ("360102", 20, "licensing", "agriculture", "450000.00", "450000.00"),
]


@pytest.fixture
async def seeded(db: AsyncSession, settings: Settings, app) -> Seeded:  # type: ignore[no-untyped-def]
    """Five registered contracts in three cities over the last 70 days, and a target for Jiangsu
    over a period around today."""
    today = today_in_china()
    s = await factory.setup(db)
    for region, days, kind, field, contract_amount, technology_amount in CONTRACTS:
        await factory.register(
            db,
            s,
            settings,
            region=region,
            on=today - timedelta(days=days),
            contract_amount=Decimal(contract_amount),
            technology_amount=Decimal(technology_amount),
            contract_type=kind,
            subtype={"transfer": "patent_right", "licensing": "ordinary"}.get(kind),
            field=field,
        )
    target = await create_target(
        db,
        user=SystemActor(),
        data=TargetCreate(
            name="江苏技术合同成交额",
            region_prefixes=["32"],
            period_start=today - timedelta(days=300),
            period_end=today + timedelta(days=65),
            metric=Metric.contract_amount,
            amount=Decimal("100000000.00"),
            source="测试",
        ),
    )
    await db.commit()
    return Seeded(str(target.id), today - timedelta(days=100), today)
