"""`techex`: every operation an operator performs, as a command with --help and a non-zero exit on failure."""

import asyncio
import functools
import os
import secrets
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from app.accounts.models import OrganizationKind, Role
from app.core.config import Settings, get_settings
from app.listings import cli as listings_cli
from app.stats import cli as stats_cli
from search import cli as search_cli

if TYPE_CHECKING:
    from search.server import LocalMeilisearch

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


def _start_meilisearch(settings: Settings, data_dir: Path, started: ExitStack) -> "LocalMeilisearch":
    from search.binary import locate
    from search.server import LocalMeilisearch

    binary = locate(settings.meili_bin, settings.cache_dir.resolve())
    meili = LocalMeilisearch(
        binary, data_dir / "meilisearch", max_indexing_memory=settings.meili_max_indexing_memory
    )
    console.print(f"starting Meilisearch on {meili.url} …")
    meili.start()
    started.callback(meili.stop)
    os.environ["MEILI_URL"] = meili.url
    os.environ["MEILI_MASTER_KEY"] = meili.master_key
    return meili


@contextmanager
def _local_services(command: str, *, database: bool, search: bool) -> Iterator[None]:
    """Development: the services of the `techex run` in this folder (./.data), or where none runs,
    the embedded PostgreSQL (migrated) and local Meilisearch the command needs, stopped after it.
    What is configured (DATABASE_URL, MEILI_URL) is used as it is; production configures all."""
    from app.core import migrate as migrations
    from app.core.embedded import EmbeddedPostgres, LocalServices, read_running

    settings = get_settings()
    if settings.environment == "production":
        yield
        return
    data_dir = settings.data_dir.resolve()
    running = read_running(data_dir)
    with ExitStack() as started:
        postgres_data_dir = None
        if settings.database_url is None and (database or (running and running.postgres_data_dir)):
            if running is not None and running.postgres_data_dir is None:
                raise _fail(
                    f"the `techex {running.command}` running here (pid {running.pid}) uses a DATABASE_URL"
                    " of its own: set the same one for this command"
                )
            # Attaches to the server `techex run` started, or starts it and stops it afterwards.
            postgres = EmbeddedPostgres(data_dir / "postgres")
            os.environ["DATABASE_URL"] = postgres.start()
            started.callback(postgres.stop)
            postgres_data_dir = str(postgres.data_dir)
            if running is None:  # `techex run` migrates at start; an embedded database alone may lag
                migrations.upgrade(os.environ["DATABASE_URL"])
        if settings.meili_url is None:
            if running is not None and running.meili_url is not None:
                os.environ["MEILI_URL"] = running.meili_url
                os.environ["MEILI_MASTER_KEY"] = running.meili_master_key or ""
            elif search and running is None:
                meili = _start_meilisearch(settings, data_dir, started)
                # Commands run beside this one use this Meilisearch rather than start a second on its data.
                record = LocalServices(
                    pid=os.getpid(),
                    command=command,
                    postgres_data_dir=postgres_data_dir,
                    meili_url=meili.url,
                    meili_master_key_file=str(data_dir / "meilisearch" / "master_key"),
                )
                record.write(data_dir)
                started.callback(record.forget, data_dir)
        if settings.secret_key is None and (data_dir / "secret_key").exists():
            os.environ["TECHEX_SECRET_KEY"] = (data_dir / "secret_key").read_text().strip()
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


P = ParamSpec("P")
R = TypeVar("R")


def with_local_services(
    name: str, *, database: bool = True, search: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A command that finds its database and search without settings in development (see
    _local_services). Wrapped around the command, not in the group's callback, so that `--help`
    and a usage error start nothing."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with _local_services(name, database=database, search=search):
                return command(*args, **kwargs)

        return wrapper

    return decorate


@cli.command()
@with_local_services("migrate")
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
@with_local_services("create-user")
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
@with_local_services("serve", database=False)
def serve() -> None:
    """Serve the API with the configured DATABASE_URL and MEILI_URL (production entry point);
    in development, beside a `techex run` in this folder, with its services."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    application = create_app(settings)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Uvicorn waits for open responses before it stops, and a live auction stream never
            # ends by itself: end them first (browsers reconnect, to another process, with
            # Last-Event-ID). The grace period bounds a response stuck on a client that stopped reading.
            application.state.auction_events.end_streams()
            await super().shutdown(sockets)

    server = Server(
        uvicorn.Config(
            application,
            host=settings.host,
            port=settings.port,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
    )
    # Uvicorn re-raises the Ctrl-C it handled once it has stopped; uvicorn.run swallows it too.
    with suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise _fail("the server did not start (see the log above)")


# What an in-flight request may take to finish once shutdown has begun.
SHUTDOWN_GRACE_SECONDS = 10


def _persistent_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


@cli.command()
def run() -> None:
    """Development: start embedded PostgreSQL and Meilisearch where no URL is set, migrate,
    create a demo administrator and serve. Ctrl-C stops everything it started. Other `techex`
    commands run in this folder meanwhile use the same services (recorded in ./.data)."""
    from app.core import migrate as migrations
    from app.core.embedded import EmbeddedPostgres, LocalServices, read_running

    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    running = read_running(data_dir)
    if running is not None:
        # Its Meilisearch holds ./.data/meilisearch: a second one there could not start.
        raise _fail(
            f"`techex {running.command}` (pid {running.pid}) is already running with {data_dir}"
            + (f", serving on {running.api_url}" if running.api_url else "")
        )
    with ExitStack() as started:
        record = LocalServices(
            pid=os.getpid(), command="run", api_url=f"http://{settings.host}:{settings.port}"
        )
        if settings.database_url is None:
            postgres = EmbeddedPostgres(data_dir / "postgres")
            console.print("starting embedded PostgreSQL …")
            os.environ["DATABASE_URL"] = postgres.start()
            started.callback(postgres.stop)
            record = replace(
                record, postgres_data_dir=str(postgres.data_dir), postgres_socket_dir=postgres.socket_dir
            )
        if settings.meili_url is None:
            meili = _start_meilisearch(settings, data_dir, started)
            record = replace(
                record, meili_url=meili.url, meili_master_key_file=str(meili.data_dir / "master_key")
            )
        if settings.secret_key is None:
            os.environ["TECHEX_SECRET_KEY"] = _persistent_secret(data_dir / "secret_key")
        get_settings.cache_clear()
        settings = get_settings()
        migrations.upgrade(settings.database_url)  # type: ignore[arg-type]
        record.write(data_dir)
        started.callback(record.forget, data_dir)

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
        console.print(
            f"serving on http://{settings.host}:{settings.port}  (docs at /docs);"
            " `techex` commands run in this folder use these services"
        )
        serve()


def _register(name: str, command: Callable[..., None], *, search: bool = False) -> None:
    cli.command(name)(with_local_services(name, search=search)(command))


_register("import", listings_cli.import_catalogue)
_register("export", listings_cli.export_listings)
_register("expire-listings", listings_cli.expire_listings_command)
_register("seed-demo", listings_cli.seed_demo)
_register("search-setup", search_cli.search_setup, search=True)
_register("reindex", search_cli.reindex, search=True)
_register("search-check", search_cli.search_check, search=True)
_register("worker", search_cli.worker, search=True)
_register("stats-rebuild", stats_cli.stats_rebuild)
_register("stats-verify", stats_cli.stats_verify)

if __name__ == "__main__":
    main()
