"""The operator commands, run as processes the way an operator runs them."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization
from app.audit.models import AuditEntry
from app.core.config import Settings
from search.server import free_port
from tests.conftest import PROJECT_ROOT


def techex(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_create_user_then_sign_in(app, settings: Settings, client: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": settings.database_url or ""}
    args = [
        "create-user",
        "--email",
        "Officer@JS.gov.cn",
        "--password",
        "officer-password-1",
        "--role",
        "registration_officer",
        "--org",
        "江苏省技术合同登记处",
        "--org-kind",
        "registration_office",
        "--verified",
        "--region",
        "320000",
        "--registration-point",
        "01",
    ]
    created = techex(*args, env=env)
    assert created.returncode == 0, created.stderr
    response = await client.post(
        "/api/v1/auth/token", data={"username": "officer@js.gov.cn", "password": "officer-password-1"}
    )
    assert response.status_code == 200
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["role"] == "registration_officer"
    assert me.json()["organization"]["verified"] is True
    assert me.json()["organization"]["registration_point"] == "01"

    again = techex(*args, env=env)  # same e-mail: a clear error and a non-zero exit, no traceback
    assert again.returncode == 1
    assert "already registered" in again.stderr and "Traceback" not in again.stderr


async def test_verifying_an_existing_organization_from_the_command_line_is_audited(
    app, settings: Settings, db: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": settings.database_url or ""}
    member = ["--role", "member", "--org", "某研究院", "--org-kind", "research_institute"]
    first = techex("create-user", "--email", "a@ri.cn", "--password", "member-password-1", *member, env=env)
    assert first.returncode == 0, first.stderr
    second = techex(
        "create-user", "--email", "b@ri.cn", "--password", "member-password-1", *member, "--verified", env=env
    )
    assert second.returncode == 0, second.stderr
    organization = await db.scalar(select(Organization).where(Organization.name == "某研究院"))
    assert organization is not None
    assert organization.verified and organization.verified_at is not None
    verified = await db.scalar(
        select(func.count())
        .where(AuditEntry.object_id == str(organization.id))
        .where(AuditEntry.action == "verified")
    )
    assert verified == 1


async def test_create_user_refuses_bad_input(app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": settings.database_url or ""}
    short = techex(
        "create-user",
        "--email",
        "a@b.cn",
        "--password",
        "short",
        "--role",
        "member",
        "--org",
        "某大学",
        "--org-kind",
        "university",
        env=env,
    )
    assert short.returncode == 1 and "password" in short.stderr
    mismatch = techex(
        "create-user",
        "--email",
        "a@b.cn",
        "--password",
        "long-enough-1",
        "--role",
        "registration_officer",
        "--org",
        "某大学",
        "--org-kind",
        "university",
        env=env,
    )
    assert mismatch.returncode == 1 and "registration_officer" in mismatch.stderr


def _children_named(name: str, data_dir: Path) -> list[psutil.Process]:
    """Servers whose command line names the directory: a postmaster (`postgres -D …`), not its backends."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if name in (process.info["name"] or "") and str(data_dir) in cmdline:
            found.append(process)
    return found


@pytest.fixture
def scratch() -> Iterator[Path]:
    """Not pytest's tmp_path: a pytest run starting meanwhile (tests run in parallel here) resets
    /tmp/pytest-of-<user> to 0700, and the embedded PostgreSQL, run as user pgserver when the tests
    run as root, could no longer reach its data directory below it."""
    with tempfile.TemporaryDirectory(prefix="techex-cli-") as directory:
        yield Path(directory)


# No service settings: a newcomer's shell, where the project folder alone says where things are.
SERVICE_SETTINGS = {"DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY", "TECHEX_DATA_DIR", "TECHEX_SECRET_KEY"}


def _project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project folder of its own (./.data inside), with the test's environment less any service
    setting; its .venv is this interpreter's, so the README's `.venv/bin/techex` runs there."""
    project = tmp_path / "techex"
    project.mkdir()
    (project / ".venv").symlink_to(sys.prefix)
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_SETTINGS}
    env |= {"TECHEX_CACHE_DIR": str(PROJECT_ROOT / ".cache"), "TECHEX_LOG_LEVEL": "WARNING"}
    return project, env


def in_project(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    without_search = {key: value for key, value in env.items() if not key.startswith("MEILI_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=without_search,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    lines: list[str]


@contextmanager
def techex_run(project: Path, env: dict[str, str]) -> Iterator[Running]:
    """`make run` in miniature in that folder, ready within four minutes; Ctrl-C (SIGINT) at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"],
        env={**env, "PORT": str(port)},
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # 2 cores shared by parallel test runs: minutes at worst
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                pass
            if ready:
                break
            time.sleep(0.5)
        assert ready, "techex run did not become ready:\n" + "".join(lines)
        yield Running(process, url, lines)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=5)


def test_run_serves_with_embedded_services_and_ctrl_c_stops_everything(scratch: Path) -> None:
    """`make run` in miniature: embedded PostgreSQL and Meilisearch, migrations, demo admin,
    ready within a minute; SIGINT (Ctrl-C) leaves nothing running."""
    project, env = _project(scratch)
    with techex_run(project, env) as running:
        assert _children_named("meilisearch", scratch)
        assert _children_named("postgres", scratch)
        # The credentials printed once work.
        credentials = re.search(r"e-mail (\S+)\s+password (\S+)", "".join(running.lines))
        assert credentials, "".join(running.lines)
        token = httpx.post(
            f"{running.url}/api/v1/auth/token",
            data={"username": credentials[1], "password": credentials[2]},
            timeout=10,
        ).json()["access_token"]
        me = httpx.get(
            f"{running.url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert me.json()["role"] == "admin"
    assert running.process.returncode == 0, "".join(running.lines)
    time.sleep(1)
    assert not _children_named("meilisearch", scratch), "Meilisearch left running"
    assert not _children_named("postgres", scratch), "PostgreSQL left running"
    assert not (project / ".data" / "running.json").exists()


def _readme_quickstart() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- quickstart-after-make-run -->\n```sh\n(.*?)```", readme, flags=re.DOTALL)
    assert block, "README.md has no quickstart block after `make run`"
    return block[1]


def test_readme_quickstart_beside_make_run_creates_a_user_who_signs_in(scratch: Path) -> None:
    """Beside a running `techex run`, the README's lines after `make run` work as typed, with no
    DATABASE_URL or MEILI_* set: `techex create-user` said `DATABASE_URL is not set`. The command
    uses the server `techex run` started (never a second one on its data) and leaves it running."""
    project, env = _project(scratch)
    with techex_run(project, env) as running:
        port = running.url.rsplit(":", 1)[1]
        script = _readme_quickstart().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        shell_env = {key: value for key, value in env.items() if not key.startswith("MEILI_")}
        typed = subprocess.run(
            ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
            env=shell_env,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert typed.returncode == 0, typed.stderr
        me = json.loads(typed.stdout)
        assert me["email"] == "zhang@example.edu.cn" and me["role"] == "member", typed.stdout
        assert me["organization"]["verified"] is True
        assert len(_children_named("postgres", scratch)) == 1  # one postmaster on ./.data/postgres
        # A command that needs search uses the running Meilisearch rather than start its own.
        checked = in_project(project, env, "search-check")
        assert checked.returncode == 0, checked.stderr
        assert "starting Meilisearch" not in checked.stderr
        assert len(_children_named("meilisearch", scratch)) == 1
        assert httpx.get(f"{running.url}/readyz", timeout=5).status_code == 200
        # A second `techex run` here would start a second Meilisearch on the same data: refused, named.
        second = in_project(project, env, "run")
        assert second.returncode == 1 and "already running" in " ".join(second.stderr.split()), second.stderr
    assert running.process.returncode == 0, "".join(running.lines)
    time.sleep(1)
    assert not _children_named("postgres", scratch), "PostgreSQL left running"


def test_commands_with_nothing_running_start_and_stop_the_embedded_database(scratch: Path) -> None:
    """Without `techex run`, create-user starts the embedded PostgreSQL of ./.data (migrating a new
    one) and stops it after; the next command finds what the first one wrote there."""
    project, env = _project(scratch)
    user = ["--email", "li@example.cn", "--password", "member-password-1", "--role", "member"]
    org = ["--org", "某企业", "--org-kind", "enterprise"]
    created = in_project(project, env, "create-user", *user, *org)
    assert created.returncode == 0, created.stderr
    assert not _children_named("postgres", scratch), "PostgreSQL left running"
    again = in_project(project, env, "create-user", *user, *org)
    assert again.returncode == 1 and "already registered" in again.stderr
    assert not _children_named("postgres", scratch), "PostgreSQL left running"


def test_commands_beside_a_worker_use_the_services_it_started(scratch: Path) -> None:
    """With nothing running, `techex worker` starts the embedded PostgreSQL and Meilisearch and records
    them: a command run meanwhile uses both (a second Meilisearch could not open the same data)."""
    project, env = _project(scratch)
    record = project / ".data" / "running.json"
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not record.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
        assert json.loads(record.read_text())["command"] == "worker"
        user = ["--email", "wang@example.cn", "--password", "member-password-1", "--role", "member"]
        org = ["--org", "某企业", "--org-kind", "enterprise"]
        created = in_project(project, env, "create-user", *user, *org)
        assert created.returncode == 0, created.stderr
        checked = in_project(project, env, "search-check")
        assert checked.returncode == 0 and "starting Meilisearch" not in checked.stderr, checked.stderr
        assert len(_children_named("meilisearch", scratch)) == 1
        refused = in_project(project, env, "run")
        assert refused.returncode == 1 and "techex worker" in refused.stderr, refused.stderr
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    assert worker.returncode == 0
    time.sleep(1)
    assert not _children_named("meilisearch", scratch), "Meilisearch left running"
    assert not _children_named("postgres", scratch), "PostgreSQL left running"
    assert not record.exists()


def test_production_starts_nothing_and_requires_the_settings(scratch: Path) -> None:
    project, env = _project(scratch)
    refused = in_project(
        project,
        {**env, "TECHEX_ENVIRONMENT": "production"},
        "create-user",
        *["--email", "a@b.cn", "--password", "long-enough-1", "--role", "member"],
        *["--org", "某企业", "--org-kind", "enterprise"],
    )
    assert refused.returncode != 0
    assert "DATABASE_URL" in refused.stderr
    assert not (project / ".data").exists()
