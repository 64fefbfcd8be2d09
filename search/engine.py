"""A thin async Meilisearch HTTP client for what the SDK does not model (embedders, federated
multi-search with hybrid queries, index swaps) and for one error to map: SearchUnavailable."""

import asyncio
from typing import Any

import httpx

from app.core.config import Settings
from search import settings as index_settings
from search.transport import quick_ack_transport


class SearchUnavailable(Exception):
    """Meilisearch could not be reached or answered with a server error."""


class TaskFailed(Exception):
    """A Meilisearch task ended as failed or canceled."""


class Engine:
    def __init__(self, url: str, key: str | None, *, prefix: str, timeout: float = 5.0) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.AsyncClient(
            base_url=url,
            headers=headers,
            timeout=timeout,
            transport=quick_ack_transport(httpx.Limits(max_connections=8, max_keepalive_connections=8)),
        )
        self.prefix = prefix
        self._set_up = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "Engine":
        if settings.meili_url is None:
            raise RuntimeError("MEILI_URL is not set")
        key = settings.meili_master_key.get_secret_value() if settings.meili_master_key else None
        return cls(
            settings.meili_url,
            key,
            prefix=settings.meili_index_prefix,
            timeout=settings.meili_timeout_seconds,
        )

    def index(self, kind: str) -> str:
        return index_settings.index_name(self.prefix, kind)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SearchUnavailable(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise SearchUnavailable(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if response.status_code >= 400:
            raise ValueError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    async def wait(self, task: dict[str, Any], *, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for a task to finish; raise TaskFailed unless it succeeded."""
        uid = task["taskUid"]
        delay, waited = 0.005, 0.0
        while True:
            state = await self.call("GET", f"/tasks/{uid}")
            if state["status"] == "succeeded":
                return state
            if state["status"] in ("failed", "canceled"):
                raise TaskFailed(f"task {uid} {state['status']}: {state.get('error')}")
            if waited > timeout:
                raise SearchUnavailable(f"task {uid} still {state['status']} after {timeout:.0f} s")
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.25)

    async def ensure_index(self, uid: str) -> None:
        found = await self.http.get(f"/indexes/{uid}")
        if found.status_code == 404:
            try:
                await self.wait(await self.call("POST", "/indexes", json={"uid": uid, "primaryKey": "id"}))
            except TaskFailed as exc:
                if "index_already_exists" not in str(exc):  # another process created it meanwhile
                    raise

    async def apply_settings(self, uid: str) -> None:
        """Create the index when missing and bring its settings to those in code (idempotent:
        Meilisearch treats an unchanged setting as a no-op)."""
        await self.ensure_index(uid)
        await self.wait(
            await self.call("PATCH", f"/indexes/{uid}/settings", json=index_settings.index_settings()),
            timeout=300,
        )

    async def setup(self) -> None:
        for kind in index_settings.KINDS:
            await self.apply_settings(self.index(kind))
        self._set_up = True

    async def ensure_setup(self) -> None:
        """Apply the settings once per process, before the first document is sent (an index
        Meilisearch creates on its own would lack them)."""
        if not self._set_up:
            await self.setup()

    async def upsert(self, uid: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.call("POST", f"/indexes/{uid}/documents", json=documents)

    async def delete(self, uid: str, ids: list[str]) -> dict[str, Any]:
        return await self.call("POST", f"/indexes/{uid}/documents/delete-batch", json=ids)

    async def multi_search(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", "/multi-search", json=body)

    async def healthy(self) -> bool:
        try:
            return (await self.call("GET", "/health")).get("status") == "available"
        except (SearchUnavailable, ValueError):
            return False
