"""The local Meilisearch that `make run` and `make test` start."""

import os
from pathlib import Path

import httpx

from app.core.config import Settings
from search.binary import locate
from search.server import LocalMeilisearch, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_master_key_reaches_meilisearch_through_its_environment_not_its_command_line(
    tmp_path: Path,
) -> None:
    """Every user of the machine reads a command line (ps, /proc/<pid>/cmdline); the environment only
    its owner. A key beginning with "-" works too: secrets.token_urlsafe draws from an alphabet with
    "-", one generated key in 64 begins with it, and the data directory keeps that key for good."""
    (tmp_path / "master_key").write_text("-leading-dash-master-key-0123456789")
    server = LocalMeilisearch(
        locate(Path(os.environ["MEILI_BIN"]) if os.environ.get("MEILI_BIN") else None, ROOT / ".cache"),
        tmp_path,
        port=free_port(),
    )
    server.start()
    try:
        command_line = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        environment = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
        authorised = httpx.get(f"{server.url}/keys", headers={"Authorization": f"Bearer {server.master_key}"})
        refused = httpx.get(f"{server.url}/keys", headers={"Authorization": "Bearer wrong-key-0123456789"})
    finally:
        server.stop()
    assert server.master_key.encode() not in command_line and b"master-key" not in command_line
    assert b"MEILI_MASTER_KEY=" + server.master_key.encode() in environment
    assert authorised.status_code == 200
    assert refused.status_code == 403


def test_indexing_memory_reaches_meilisearch_and_make_run_defaults_to_1gib(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MEILI_MAX_INDEXING_MEMORY", "3GiB")
    assert (
        LocalMeilisearch(Path("meilisearch"), tmp_path)._environment()["MEILI_MAX_INDEXING_MEMORY"] == "1GiB"
    )
    chosen = LocalMeilisearch(Path("meilisearch"), tmp_path, max_indexing_memory="512MiB")._environment()
    assert chosen["MEILI_MAX_INDEXING_MEMORY"] == "512MiB"
    assert Settings(_env_file=None).meili_max_indexing_memory == "3GiB"  # what `techex run` passes on
    monkeypatch.delenv("MEILI_MAX_INDEXING_MEMORY")
    assert Settings(_env_file=None).meili_max_indexing_memory == "1GiB"
    unset = LocalMeilisearch(Path("meilisearch"), tmp_path, max_indexing_memory=None)._environment()
    assert "MEILI_MAX_INDEXING_MEMORY" not in unset
