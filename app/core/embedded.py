"""The embedded PostgreSQL 16 of `make run` and `make test`, from the `pgserver` wheel.

No root service, no port: the server listens on a unix socket inside its data directory's
runtime folder. Used only when DATABASE_URL is unset.
"""

import subprocess
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "techex"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, delete_on_stop: bool = False) -> None:
        self.data_dir = data_dir
        self.delete_on_stop = delete_on_stop
        self._server = None

    def start(self) -> str:
        """Start (or attach to) the server, make sure the database exists, and return its asyncpg URL."""
        import pgserver  # the embedded group is absent from production images

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its /tmp fallback is fine.
            warnings.simplefilter("ignore")
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
