"""Operator commands of the listings domain; registered in app/cli.py."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.errors import AppError

console = Console(stderr=True)
KIND_CHOICES = ("achievement", "demand", "expert", "agency")


def _database() -> Database:
    settings = get_settings()
    if settings.database_url is None:
        console.print("[red]error:[/red] DATABASE_URL is not set")
        raise typer.Exit(code=1)
    return Database.from_url(settings.database_url, pool_size=1)


async def _user(session, email: str):  # type: ignore[no-untyped-def]
    from app.accounts import repository

    user = await repository.get_user_by_email(session, email)
    if user is None:
        console.print(f"[red]error:[/red] no user {email}")
        raise typer.Exit(code=1)
    return user


def _fail(exc: AppError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.message_zh} ({exc.code})")
    for error in list(exc.errors)[:50]:
        console.print(f"  {error.message_zh}")
    return typer.Exit(code=1)


def import_catalogue(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv, .xlsx or .jsonl")],
    user: Annotated[
        str, typer.Option(help="e-mail of the importing user; rows belong to their organization")
    ],
    dry_run: Annotated[bool, typer.Option(help="only check and report")] = False,
    partial: Annotated[bool, typer.Option(help="import the valid rows even if others are invalid")] = False,
    publish: Annotated[bool, typer.Option(help="publish rows that meet the publishing rule")] = False,
) -> None:
    """Import a 科技成果目录 (achievements catalogue), with the same rules as POST /achievements/import."""
    from app.listings import importing, tabular

    fmt = tabular.detect_format(file.name, None)
    if fmt is None:
        console.print("[red]error:[/red] the file must end in .csv, .xlsx or .jsonl")
        raise typer.Exit(code=1)

    async def run() -> importing.ImportReport:
        database = _database()
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                tasks: dict[str, int] = {}

                def progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(
                            {"validate": "校验", "insert": "写入"}[stage], total=total
                        )
                    bar.update(tasks[stage], completed=done)

                async with database.sessionmaker() as session, session.begin():
                    return await importing.import_achievements(
                        session,
                        user=await _user(session, user),
                        content=file.read_bytes(),
                        fmt=fmt,
                        dry_run=dry_run,
                        partial=partial,
                        publish=publish,
                        source=file.name,
                        progress=progress,
                    )
        finally:
            await database.dispose()

    try:
        report = asyncio.run(run())
    except AppError as exc:
        raise _fail(exc) from exc
    for error in report.errors[:50]:
        console.print(f"  [yellow]{error.message}[/yellow]")
    for duplicate in report.duplicates[:50]:
        console.print(f"  [dim]{duplicate.message}[/dim]")
    new_rows = report.valid_rows - len(report.duplicates)
    verb, done = ("would import", new_rows) if dry_run else ("imported", report.created)
    console.print(
        f"[green]{verb}[/green] {done} of {report.total_rows} rows"
        f" ({report.published} published, {report.invalid_rows} invalid,"
        f" {len(report.duplicates)} already there)"
    )


def export_listings(
    user: Annotated[str, typer.Option(help="e-mail; exports that user's organization's listings")],
    output: Annotated[Path, typer.Option(help="file to write; .xlsx or .csv")],
    kind: Annotated[str, typer.Option(help="achievement, demand, expert or agency")] = "achievement",
) -> None:
    """Export an organization's own listings of one kind to XLSX or CSV."""
    from app.listings.files import export_owned
    from app.listings.kinds import KINDS

    if kind not in KINDS or output.suffix not in (".xlsx", ".csv"):
        console.print(
            "[red]error:[/red] --kind must be one of " + ", ".join(KINDS) + "; --output .xlsx or .csv"
        )
        raise typer.Exit(code=1)

    async def run() -> bytes:
        database = _database()
        try:
            async with database.sessionmaker() as session:
                content, _ = await export_owned(
                    session, KINDS[kind], await _user(session, user), output.suffix[1:]
                )
                return content
        finally:
            await database.dispose()

    output.write_bytes(asyncio.run(run()))
    console.print(f"[green]wrote[/green] {output}")


async def expire(database: Database) -> dict[str, int]:
    """One transaction: expire what is due (also what the worker calls)."""
    from app.listings.service import expire_listings

    async with database.sessionmaker() as session, session.begin():
        return await expire_listings(session)


def expire_listings_command() -> None:
    """Expire published achievements and demands whose end date has passed (audited, reindexed)."""

    async def run() -> dict[str, int]:
        database = _database()
        try:
            return await expire(database)
        finally:
            await database.dispose()

    counts = asyncio.run(run())
    console.print("[green]expired[/green] " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))


async def seed(database: Database, settings: Settings | None = None) -> list[str]:
    """Run every seeder of app/demo.py in one transaction."""
    from app.demo import SEEDERS

    settings = settings or get_settings()
    async with database.sessionmaker() as session, session.begin():
        return [await seeder(session, settings) for seeder in SEEDERS]


def seed_demo() -> None:
    """Load realistic demo data (idempotent: running it again adds nothing twice)."""

    async def run() -> list[str]:
        database = _database()
        try:
            return await seed(database)
        finally:
            await database.dispose()

    for line in asyncio.run(run()):
        console.print(f"[green]seeded[/green] {line}")
