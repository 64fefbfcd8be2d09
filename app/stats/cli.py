"""Operator commands of the statistics: rebuild the summary table, and check it against the contracts."""

import asyncio
from datetime import date, timedelta

import typer
from rich.console import Console

from app.core.config import get_settings

console = Console(stderr=True)


def _database():  # type: ignore[no-untyped-def]
    from app.core.db import Database

    settings = get_settings()
    if settings.database_url is None:
        console.print("[red]error:[/red] DATABASE_URL is not set")
        raise typer.Exit(code=1)
    return Database.from_url(settings.database_url, pool_size=2)


def stats_rebuild() -> None:
    """Recompute `contract_totals` from the registered contracts (after a bulk load or a restore).
    Registrations wait for the few seconds it takes; the totals are exact afterwards."""
    from app.stats import summary

    async def run() -> None:
        database = _database()
        try:
            async with database.sessionmaker() as session:
                await summary.rebuild(session)
                await session.commit()
        finally:
            await database.dispose()

    asyncio.run(run())
    console.print("[green]contract_totals rebuilt[/green]")


def stats_verify() -> None:
    """Compare every statistic served from the summary table with the naive SUM over the contracts;
    exit 1 on any difference (run it after upgrades or restores)."""
    from app.stats.queries import GroupBy, totals

    async def run() -> list[str]:
        database = _database()
        differences: list[str] = []
        try:
            async with database.sessionmaker() as session:
                today = date.today()
                # The whole history (monthly summary) and a range with partial months at both ends
                # (daily summary too).
                for since, until in ((None, None), (today - timedelta(days=400), today - timedelta(days=10))):
                    for group_by in GroupBy:
                        fast = await totals(session, group_by, since=since, until=until)
                        naive = await totals(session, group_by, since=since, until=until, naive=True)
                        if fast != naive:
                            differences.append(f"{group_by.value} ({since or 'start'}…{until or 'end'})")
        finally:
            await database.dispose()
        return differences

    differences = asyncio.run(run())
    if differences:
        console.print(f"[red]summary differs from the contracts for:[/red] {', '.join(differences)}")
        raise typer.Exit(code=1)
    console.print("[green]summary equals the contracts for every statistic[/green]")
