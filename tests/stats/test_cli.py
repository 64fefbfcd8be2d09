"""`techex stats-rebuild` and `techex stats-verify` against the real database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings, get_settings
from tests.stats import factory


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_verify_detects_a_tampered_summary_and_rebuild_repairs_it(
    db: AsyncSession, settings: Settings, env: None
) -> None:
    s = await factory.setup(db)
    # One contract in a whole month, one in the partial month at the end of verify's second range.
    for on in (date(2026, 3, 3), date.today() - timedelta(days=12)):
        await factory.register(
            db,
            s,
            settings,
            region="320102",
            on=on,
            contract_amount=Decimal("10.00"),
            technology_amount=Decimal("9.99"),
        )
    runner = CliRunner()
    ok = await _run(runner, ["stats-verify"])
    assert ok.exit_code == 0, ok.output
    for table in ("contract_totals", "contract_daily_totals"):
        await db.execute(
            text(f"UPDATE {table} SET contract_amount = contract_amount + 0.01 WHERE dimension='type'")  # noqa: S608
        )
        await db.commit()
        assert (await _run(runner, ["stats-verify"])).exit_code == 1, table
        assert (await _run(runner, ["stats-rebuild"])).exit_code == 0
        assert (await _run(runner, ["stats-verify"])).exit_code == 0


async def _run(runner: CliRunner, args: list[str]):  # type: ignore[no-untyped-def]
    import asyncio

    # The commands run their own event loop; keep it off the test loop's thread.
    return await asyncio.to_thread(runner.invoke, cli, args)
