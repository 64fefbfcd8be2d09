"""The embedded PostgreSQL 16 of `make run` and `make test`, from the `pgserver` wheel, and the
record through which every `techex` command finds the local services a `techex run` started.

No root service, no port: the server listens on a unix socket inside its data directory's
runtime folder. Used only when DATABASE_URL is unset. Any number of processes may start it on one
data directory: pgserver starts the server only when none runs there (under a lock) and stops it
when the last of them lets go, so a command never starts a second server beside `techex run`'s.
"""

import contextlib
import json
import os
import subprocess
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

DATABASE_NAME = "techex"
RUNNING_FILE = "running.json"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, delete_on_stop: bool = False) -> None:
        self.data_dir = data_dir
        self.delete_on_stop = delete_on_stop
        self._server = None

    def start(self) -> str:
        """Start (or attach to) the server, make sure the database exists, and return its asyncpg URL."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its /tmp fallback is fine.
            warnings.simplefilter("ignore")
            import pgserver  # the embedded group is absent from production images

            self._server = pgserver.get_server(
                self.data_dir, cleanup_mode="delete" if self.delete_on_stop else "stop"
            )
        # A constant name, not input: psql takes no bind parameters on stdin.
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        return self.url

    @property
    def socket_dir(self) -> str:
        assert self._server is not None
        return parse_qs(urlparse(self._server.get_uri()).query)["host"][0]

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={self.socket_dir}"

    def psql(self, command: str) -> str:
        assert self._server is not None
        return self._server.psql(command)

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.cleanup()
            except subprocess.CalledProcessError:
                pass  # already stopped
            self._server = None


@dataclass(frozen=True)
class LocalServices:
    """What a process started on a data directory, for the other `techex` commands run there.

    `techex run` writes it (and so does a command that had to start Meilisearch itself); a field
    is None where that process uses a service it was given (DATABASE_URL, MEILI_URL) instead.
    The Meilisearch key stays in its own 0600 file; this names the file. The socket directory is
    for people: `psql -h DIR -U postgres techex` reaches the same database.
    """

    pid: int
    command: str
    api_url: str | None = None
    postgres_data_dir: str | None = None
    postgres_socket_dir: str | None = None
    meili_url: str | None = None
    meili_master_key_file: str | None = None

    @property
    def meili_master_key(self) -> str | None:
        if self.meili_master_key_file is None:
            return None
        return Path(self.meili_master_key_file).read_text().strip()

    def write(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        scratch = data_dir / f".{RUNNING_FILE}.{self.pid}"
        scratch.write_text(json.dumps(asdict(self), indent=2) + "\n")
        scratch.replace(data_dir / RUNNING_FILE)  # readers never see half a record

    def forget(self, data_dir: Path) -> None:
        """Remove the record if it is still this process's."""
        if read_running(data_dir, check_alive=False) == self:
            (data_dir / RUNNING_FILE).unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_running(data_dir: Path, *, check_alive: bool = True) -> LocalServices | None:
    """The services recorded on this data directory, or None when no live process recorded any:
    a record left by a process killed outright names a dead process or a Meilisearch gone with it."""
    with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
        record = LocalServices(**json.loads((data_dir / RUNNING_FILE).read_text()))
        if not check_alive:
            return record
        if not _process_alive(record.pid):
            return None
        if record.meili_url is not None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{record.meili_url}/health", timeout=2).status_code == 200:
                    return record
            return None
        return record
    return None
