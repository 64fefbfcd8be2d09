"""Uploaded documents behind one interface (the contract document 合同文本; a listing's confidential
documents): local disk now, object storage later.

Stored per application (or per confidential document) and named by its SHA-256, computed here from
the bytes received: the hash on an application is always that of bytes uploaded to it, and a
document is read only through the application it was uploaded to (a hash alone opens nothing).
"""

import asyncio
import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Protocol


class DocumentStore(Protocol):
    async def put(self, application_id: uuid.UUID, data: bytes) -> str:
        """Store the bytes for this application; return their SHA-256 (hex)."""

    async def get(self, application_id: uuid.UUID, sha256: str) -> bytes | None:
        """The bytes uploaded to this application under this hash, or None."""

    async def delete(self, application_id: uuid.UUID) -> None:
        """Remove every byte stored for this id (a deleted confidential document)."""


class LocalDocumentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, application_id: uuid.UUID, sha256: str) -> Path:
        return self.root / str(application_id) / sha256

    def _write(self, path: Path, data: bytes) -> None:
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

    async def put(self, application_id: uuid.UUID, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, self._path(application_id, sha256), data)
        return sha256

    async def get(self, application_id: uuid.UUID, sha256: str) -> bytes | None:
        path = self._path(application_id, sha256)
        return await asyncio.to_thread(path.read_bytes) if path.exists() else None

    async def delete(self, application_id: uuid.UUID) -> None:
        await asyncio.to_thread(shutil.rmtree, self.root / str(application_id), True)


def document_store(data_dir: Path, kind: str = "contract-documents") -> DocumentStore:
    """The store of contract documents, or of another kind of document under its own folder."""
    return LocalDocumentStore(data_dir / kind)
