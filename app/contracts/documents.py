"""The contract document (合同文本) behind one interface: local disk now, object storage later.

Content-addressed by SHA-256, so the hash on the application is also the file's name and a
stored file can never silently differ from what was certified.
"""

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class DocumentStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Store the bytes; return their SHA-256 (hex)."""

    async def get(self, sha256: str) -> bytes | None:
        """The bytes stored under this hash, or None."""


class LocalDocumentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _write(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside and rename: a crash never leaves a truncated file under a valid hash.
        handle, temporary = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)

    async def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, sha256, data)
        return sha256

    async def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        return await asyncio.to_thread(path.read_bytes) if path.exists() else None


def document_store(data_dir: Path) -> DocumentStore:
    return LocalDocumentStore(data_dir / "contract-documents")
