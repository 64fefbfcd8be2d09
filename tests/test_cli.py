"""The operator commands, run as processes the way an operator runs them."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
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
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if name in (process.info["name"] or "") and str(data_dir) in cmdline:
            found.append(process)
    return found


def test_run_serves_with_embedded_services_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    """`make run` in miniature: embedded PostgreSQL and Meilisearch, migrations, demo admin,
    ready within a minute; SIGINT (Ctrl-C) leaves nothing running."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY"}
    }
    env |= {
        "TECHEX_DATA_DIR": str(tmp_path / "data"),
        "TECHEX_CACHE_DIR": str(PROJECT_ROOT / ".cache"),
        "PORT": str(port),
        "TECHEX_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                pass
            if ready:
                break
            time.sleep(0.5)
        assert ready, "techex run did not become ready"
        assert _children_named("meilisearch", tmp_path)
        assert _children_named("postgres", tmp_path)
        # The credentials printed once work.
        credentials = re.search(r"e-mail (\S+)\s+password (\S+)", "".join(lines))
        assert credentials, "".join(lines)
        token = httpx.post(
            f"{url}/api/v1/auth/token",
            data={"username": credentials[1], "password": credentials[2]},
            timeout=10,
        ).json()["access_token"]
        me = httpx.get(f"{url}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.json()["role"] == "admin"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=5)
    assert process.returncode == 0, "".join(lines)
    time.sleep(1)
    assert not _children_named("meilisearch", tmp_path), "Meilisearch left running"
    assert not _children_named("postgres", tmp_path), "PostgreSQL left running"
