"""A local Meilisearch process for `make run` and the test suite, bound to 127.0.0.1 only."""

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from app.core.config import MEILI_INDEXING_MEMORY

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the supervising process is killed outright, the kernel ends Meilisearch too: nothing left running.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def master_key_in(data_dir: Path) -> str:
    """The master key kept beside the data (0600), generated on first use."""
    key_file = data_dir / "master_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(32))
    return key_file.read_text().strip()


class LocalMeilisearch:
    def __init__(
        self,
        binary: Path,
        data_dir: Path,
        *,
        port: int | None = None,
        max_indexing_memory: str | None = MEILI_INDEXING_MEMORY,
    ) -> None:
        self.binary = binary
        self.max_indexing_memory = max_indexing_memory
        self.data_dir = data_dir
        self.port = port or (7700 if port_is_free(7700) else free_port())
        self.master_key = master_key_in(data_dir)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("Meilisearch is not running")
        return self._process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "meilisearch.log").open("ab")
        self._process = subprocess.Popen(
            [
                str(self.binary),
                "--db-path",
                str(self.data_dir / "data.ms"),
                "--dump-dir",
                str(self.data_dir / "dumps"),
                "--snapshot-dir",
                str(self.data_dir / "snapshots"),
                "--http-addr",
                f"127.0.0.1:{self.port}",
                # The master key goes in the environment (`_environment`): a command line is
                # readable by every user of the machine (ps, /proc/<pid>/cmdline).
                "--env",
                "development",
                "--no-analytics",
                "--log-level",
                "WARN",
            ],
            env=self._environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            # Its own session: a Ctrl-C reaches the supervisor, which stops this after the API.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = (self.data_dir / "meilisearch.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Meilisearch exited with {self._process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Meilisearch did not become healthy within {timeout} s")

    def _environment(self) -> dict[str, str]:
        # The master key, where only this user (and root) can read it: /proc/<pid>/environ is 0400.
        environment = dict(os.environ, MEILI_MASTER_KEY=self.master_key)
        # Meilisearch sizes each indexing task's buffers from its indexing memory (default: two
        # thirds of RAM); at 16 GiB every one-document task paid hundreds of ms for them
        # (docs/search.md). None leaves Meilisearch's own default (or the environment's value).
        if self.max_indexing_memory is not None:
            environment["MEILI_MAX_INDEXING_MEMORY"] = self.max_indexing_memory
        return environment

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
