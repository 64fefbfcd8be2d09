"""`techex search-setup`, `reindex`, `search-check` and `worker` (registered in app/cli.py)."""

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.config import Settings, get_settings
from app.core.db import Database

console = Console(stderr=True)


def _configured() -> Settings:
    settings = get_settings()
    if settings.database_url is None or settings.meili_url is None:
        console.print("[red]error:[/red] DATABASE_URL and MEILI_URL must be set")
        raise typer.Exit(code=1)
    return settings


def _connections() -> tuple[Database, "Engine"]:  # noqa: F821
    """The database, and Meilisearch with the master key: these are the operator's commands (an
    index swap's task is visible to the master key only)."""
    from search.engine import Engine

    settings = _configured()
    assert settings.database_url is not None
    return Database.from_url(settings.database_url, pool_size=2), Engine.from_settings(settings, master=True)


def search_setup() -> None:
    """Create the search keys and indexes and apply the indexes' settings (idempotent; also done at
    start-up)."""
    from search import keys

    async def run() -> None:
        database, engine = _connections()
        try:
            if get_settings().meili_master_key is not None:
                await keys.ensure(engine, engine.prefix)
            await engine.setup()
        finally:
            await engine.aclose()
            await database.dispose()

    asyncio.run(run())
    console.print("[green]search keys and indexes are set up[/green]")


def reindex() -> None:
    """Rebuild every search index from the database into new indexes and swap them in atomically."""
    from search import reindex as rebuilding

    async def run() -> dict[str, int]:
        database, engine = _connections()
        try:
            totals = {}
            async with database.sessionmaker() as session:
                for kind in ("achievement", "demand", "expert", "agency"):
                    totals[kind] = await rebuilding.count_published(session, kind)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                tasks = {kind: bar.add_task(kind, total=total) for kind, total in totals.items()}
                return await rebuilding.reindex(
                    database, engine, progress=lambda kind, n: bar.advance(tasks[kind], n)
                )
        finally:
            await engine.aclose()
            await database.dispose()

    counts = asyncio.run(run())
    console.print("[green]reindexed and swapped[/green] " + ", ".join(f"{k} {n}" for k, n in counts.items()))


def search_check(
    fix: Annotated[bool, typer.Option(help="queue the missing and stale listings for the relay")] = False,
) -> None:
    """Report published listings missing from the index or stale in it, and indexed ones no longer
    published. Exit status 1 when anything is off."""
    from search import reindex as rebuilding

    async def run() -> "rebuilding.CheckReport":
        database, engine = _connections()
        try:
            report = await rebuilding.check(database, engine)
            if fix and not report.clean:
                from app.outbox.service import enqueue

                async with database.sessionmaker() as session:
                    for part in (report.missing, report.stale, report.extra):
                        for kind, ids in part.items():
                            for listing_id in ids:
                                enqueue(
                                    session,
                                    topic="listing.changed",
                                    key=f"{kind}:{listing_id}",
                                    payload={"kind": kind, "id": listing_id, "action": "resync"},
                                )
                    await session.commit()
            return report
        finally:
            await engine.aclose()
            await database.dispose()

    report = asyncio.run(run())
    for name, part in (("missing", report.missing), ("stale", report.stale), ("not published", report.extra)):
        for kind, ids in part.items():
            if ids:
                console.print(f"[yellow]{kind}[/yellow] {name}: {len(ids)} — " + ", ".join(ids[:10]))
    if any(report.stale.values()):
        console.print(
            "stale: indexed from an older version of the listing, or its text prepared another way"
            " (after an upgrade: `techex reindex`)"
        )
    if not report.clean:
        raise typer.Exit(code=1)
    console.print("[green]the index matches the database[/green]")


def worker(
    once: Annotated[bool, typer.Option(help="process what is due, then exit")] = False,
) -> None:
    """Run the outbox relays (search index and subscriptions; webhooks) until SIGINT/SIGTERM.
    Any number of workers and API processes may run it side by side."""
    from app.matching.worker import Background
    from search.keys import Engines

    async def run() -> None:
        settings = _configured()
        assert settings.database_url is not None
        database = Database.from_url(settings.database_url, pool_size=2)
        engines = Engines(settings)  # the relays work with the indexing key
        background = Background(database, engines, settings)
        try:
            if once:
                await engines.provision()
                await engines.indexing.setup()
                await background.drain()
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            background.start()
            console.print("outbox relay running")
            await stop.wait()
        finally:
            await background.stop()
            await engines.aclose()
            await database.dispose()

    asyncio.run(run())
