"""`techex`: every operation an operator performs, as a command with --help and a non-zero exit on failure."""

import asyncio
import os
import secrets
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.accounts.models import OrganizationKind, Role
from app.core.config import Settings, get_settings
from app.listings import cli as listings_cli
from app.stats import cli as stats_cli
from search import cli as search_cli

cli = typer.Typer(
    help="Techex — 技术产权交易市场 operations.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console(stderr=True)


def main() -> None:
    cli()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _require_database(settings: Settings) -> str:
    if settings.database_url is None:
        raise _fail("DATABASE_URL is not set (use `techex run` for the embedded default)")
    return settings.database_url


@cli.command()
def migrate() -> None:
    """Apply all pending database migrations (alembic upgrade head)."""
    from app.core import migrate as migrations

    migrations.upgrade(_require_database(get_settings()))
    console.print("[green]database is at the latest migration[/green]")


@cli.command("make-migration")
def make_migration(message: Annotated[str, typer.Argument(help="slug, e.g. add_listings")]) -> None:
    """Autogenerate a migration from the models against a throwaway embedded PostgreSQL at head."""
    from app.core import migrate as migrations
    from app.core.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="techex-mkmig-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "pg", delete_on_stop=True)
        url = postgres.start()
        try:
            migrations.upgrade(url)
            migrations.autogenerate(url, message)
        finally:
            postgres.stop()


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="sign-in e-mail")],
    password: Annotated[str, typer.Option(help="at least 10 characters, not guessable (zxcvbn)")],
    role: Annotated[Role, typer.Option(help="admin, member, tech_manager or registration_officer")],
    org: Annotated[str, typer.Option(help="organization name; created when missing")],
    org_kind: Annotated[OrganizationKind, typer.Option(help="kind of the organization")],
    verified: Annotated[bool, typer.Option(help="mark the organization verified")] = False,
    region: Annotated[str | None, typer.Option(help="GB/T 2260 region code of a new organization")] = None,
    credit_code: Annotated[
        str | None, typer.Option(help="unified social credit code of a new organization")
    ] = None,
    registration_point: Annotated[
        str | None, typer.Option(help="two-digit registration point of a new registration office")
    ] = None,
    full_name: Annotated[str, typer.Option(help="display name")] = "",
) -> None:
    """Create a user, and its organization when no organization of that name exists."""
    from app.accounts.operations import create_user_with_organization

    settings = get_settings()
    _require_database(settings)
    try:
        user = asyncio.run(
            create_user_with_organization(
                settings,
                email=email,
                password=password,
                role=role,
                organization_name=org,
                organization_kind=org_kind,
                verified=verified,
                region_code=region,
                credit_code=credit_code,
                registration_point=registration_point,
                full_name=full_name,
            )
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"[green]created[/green] {user.email} ({user.role.value}) in {user.organization.name}")


@cli.command()
def serve() -> None:
    """Serve the API with the configured DATABASE_URL and MEILI_URL (production entry point)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def _persistent_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


@cli.command()
def run() -> None:
    """Development: start embedded PostgreSQL and Meilisearch where no URL is set, migrate,
    create a demo administrator and serve. Ctrl-C stops everything it started."""
    from app.core import migrate as migrations
    from app.core.embedded import EmbeddedPostgres
    from search.binary import locate
    from search.server import LocalMeilisearch

    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    with ExitStack() as started:
        if settings.database_url is None:
            postgres = EmbeddedPostgres(data_dir / "postgres")
            console.print("starting embedded PostgreSQL …")
            os.environ["DATABASE_URL"] = postgres.start()
            started.callback(postgres.stop)
        if settings.meili_url is None:
            binary = locate(settings.meili_bin, settings.cache_dir.resolve())
            meili = LocalMeilisearch(
                binary, data_dir / "meilisearch", max_indexing_memory=settings.meili_max_indexing_memory
            )
            console.print(f"starting Meilisearch on {meili.url} …")
            meili.start()
            started.callback(meili.stop)
            os.environ["MEILI_URL"] = meili.url
            os.environ["MEILI_MASTER_KEY"] = meili.master_key
        if settings.secret_key is None:
            os.environ["TECHEX_SECRET_KEY"] = _persistent_secret(data_dir / "secret_key")
        get_settings.cache_clear()
        settings = get_settings()
        migrations.upgrade(settings.database_url)  # type: ignore[arg-type]

        from app.accounts.operations import ensure_demo_admin

        credentials = asyncio.run(ensure_demo_admin(settings))
        if credentials:
            console.print(
                "[bold]demo administrator created[/bold]"
                f" — e-mail {credentials[0]}  password {credentials[1]}"
                "\n(shown only this once; it is not stored in clear anywhere)",
                soft_wrap=True,  # a wrapped password cannot be copied
            )
        if os.environ.get("DEMO_DATA") == "1":  # `DEMO_DATA=1 make run`
            listings_cli.seed_demo()
        console.print(f"serving on http://{settings.host}:{settings.port}  (docs at /docs)")
        serve()


cli.command("import")(listings_cli.import_catalogue)
cli.command("export")(listings_cli.export_listings)
cli.command("expire-listings")(listings_cli.expire_listings_command)
cli.command("seed-demo")(listings_cli.seed_demo)
cli.command("search-setup")(search_cli.search_setup)
cli.command("reindex")(search_cli.reindex)
cli.command("search-check")(search_cli.search_check)
cli.command("worker")(search_cli.worker)
cli.command("stats-rebuild")(stats_cli.stats_rebuild)
cli.command("stats-verify")(stats_cli.stats_verify)


if __name__ == "__main__":
    main()
