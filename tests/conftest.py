"""Test provisioning: the real PostgreSQL and Meilisearch, started into throwaway directories
unless DATABASE_URL / MEILI_URL point at running ones; one schema built by the migrations."""

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import migrate
from app.core.config import Settings
from app.core.embedded import EmbeddedPostgres
from app.main import create_app
from app.models import Base
from search.binary import locate
from search.server import LocalMeilisearch, free_port

# Argon2 at production cost makes every user a test creates take most of a second on two cores.
# The cheapest profile keeps the same algorithm and code path; it reaches the servers the tests
# start as processes through the environment too.
os.environ.setdefault("TECHEX_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("TECHEX_PASSWORD_HASH_MEMORY_KIB", "8192")
os.environ.setdefault("TECHEX_PASSWORD_HASH_PARALLELISM", "1")

pytest_plugins = ["tests.fixtures.accounts"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _in_thread(function, *args) -> None:  # type: ignore[no-untyped-def]
    # Alembic's env runs its own event loop; keep it off the test loop's thread.
    errors: list[BaseException] = []

    def target() -> None:
        try:
            function(*args)
        except BaseException as exc:  # re-raised below in the test thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# Throwaway directories of our own rather than pytest's tmp_path: pytest prunes old base
# directories, which would pull the data from under a server of a concurrent run.
@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="techex-test-pg-") as scratch:
        postgres = EmbeddedPostgres(Path(scratch) / "data", delete_on_stop=True)
        url = postgres.start()
        try:
            _in_thread(migrate.upgrade, url)
            yield url
        finally:
            postgres.stop()


@pytest.fixture(scope="session")
def meilisearch() -> Iterator[LocalMeilisearch | None]:
    if os.environ.get("MEILI_URL"):
        yield None
        return
    binary = locate(
        Path(os.environ["MEILI_BIN"]) if os.environ.get("MEILI_BIN") else None, PROJECT_ROOT / ".cache"
    )
    with tempfile.TemporaryDirectory(prefix="techex-test-meili-") as scratch:
        server = LocalMeilisearch(binary, Path(scratch), port=free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def settings(
    postgres_url: str, meilisearch: LocalMeilisearch | None, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        environment="test",
        DATABASE_URL=postgres_url,
        MEILI_URL=meilisearch.url if meilisearch else os.environ["MEILI_URL"],
        MEILI_MASTER_KEY=meilisearch.master_key if meilisearch else os.environ.get("MEILI_MASTER_KEY"),
        secret_key=secrets.token_urlsafe(32),
        # A unique prefix per run keeps parallel or repeated runs out of each other's indexes.
        meili_index_prefix=f"test_{secrets.token_hex(4)}",
        log_json=True,
        log_level="WARNING",
        data_dir=tmp_path_factory.mktemp("data"),  # contract documents, never the working tree's .data
        login_max_failures=3,
        login_lockout_seconds=60,
        max_body_bytes=64 * 1024,
        page_size_max=50,
        cors_origins=["https://portal.example"],
        # The tests' webhook receiver listens on loopback; other private addresses stay refused.
        webhook_allowed_networks=["127.0.0.1/32"],
        webhook_retry_seconds=[0.1, 0.2, 0.4],
        # Longer than any test waits for something else to happen while a receiver holds a delivery.
        webhook_timeout_seconds=30,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


_TABLES = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)


@pytest.fixture(autouse=True)
async def _clean_database(request: pytest.FixtureRequest) -> None:
    """Every test starts from empty tables, so tests run in any order and may commit for real
    (concurrency and separate-transaction rules need real commits)."""
    if "app" not in request.fixturenames:
        return
    application: FastAPI = request.getfixturevalue("app")
    async with application.state.database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def db(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session of its own for arranging data and checking what the API committed."""
    async with app.state.database.sessionmaker() as session:
        yield session


@contextmanager
def served(settings: Settings, **environment: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service under uvicorn in its own process (`techex serve`), as production runs it, on
    `settings`' database and search, with `environment` added (e.g. TECHEX_… settings); its URL
    and process. Stopped (SIGTERM) on leaving."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "MEILI_URL": settings.meili_url or "",
        "MEILI_MASTER_KEY": settings.meili_master_key.get_secret_value() if settings.meili_master_key else "",
        "TECHEX_SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else "",
        "TECHEX_MEILI_INDEX_PREFIX": settings.meili_index_prefix,
        "TECHEX_ENVIRONMENT": "test",
        "TECHEX_LOG_LEVEL": "WARNING",
        "PORT": str(port),
        **environment,
    }
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=environment, cwd=PROJECT_ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, "techex serve exited during start-up"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("techex serve did not come up within 60 s")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    with served(settings) as (url, _process):
        yield url
