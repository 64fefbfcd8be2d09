"""The service's one Meilisearch client: a thin async HTTP client over the REST API (settings,
documents, tasks, hybrid multi-search, index swaps) with one error to map: SearchUnavailable.

aiohttp and orjson because every search passes through here on the request path: measured per
multi-search call, 0.6 ms of client CPU against 3.1 ms for httpx with the standard json module
(docs/benchmarks.md). Answers are asked for uncompressed: Meilisearch streams a compressed answer
in chunks, its head and body in separate writes, and without TCP_NODELAY on its side Nagle held
the body until our delayed ACK, 40 ms later; compressing also cost it ≈2 ms of CPU per search on
the same machine, where loopback gains nothing from it."""

import asyncio
from typing import Any

import aiohttp
import orjson

from app.core.config import Settings
from search import settings as index_settings


class SearchUnavailable(Exception):
    """Meilisearch could not be reached or answered with a server error."""


class TaskFailed(Exception):
    """A Meilisearch task ended as failed or canceled."""


class Engine:
    def __init__(self, url: str, key: str | None, *, prefix: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
        self.use_key(key)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.prefix = prefix
        self._set_up = False
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Opened on first use: a session belongs to the event loop it was created in.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self.headers,
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=8),
            )
        return self._session

    def use_key(self, key: str | None) -> None:
        """Send `key` from now on (search/keys.py sets the scoped keys once they exist)."""
        self._auth = {"Authorization": f"Bearer {key}"} if key else {}

    @classmethod
    def from_settings(cls, settings: Settings, *, key: str | None = None, master: bool = False) -> "Engine":
        """A client with `key`, or with the master key (`master`): only key set-up and the operator's
        commands (`techex search-setup`, `reindex`, `search-check`) use that one."""
        if settings.meili_url is None:
            raise RuntimeError("MEILI_URL is not set")
        if master:
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
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Status and decoded body (None when empty); SearchUnavailable when Meilisearch cannot be
        reached or answers with a server error."""
        data = orjson.dumps(json) if json is not None else None
        try:
            async with self._http().request(
                method, self.url + path, data=data, params=params, headers=self._auth
            ) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SearchUnavailable(f"{method} {path}: {exc!r}") from exc
        if status >= 500:
            raise SearchUnavailable(f"{method} {path}: {status} {content[:200].decode(errors='replace')}")
        return status, orjson.loads(content) if content else None

    async def call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """The decoded body of a successful call; SearchUnavailable when Meilisearch refuses the key
        (its keys not set up yet, or a wrong one configured) or has no such index yet; ValueError on
        another client error (a bug of ours)."""
        status, body = await self.send(method, path, json=json, params=params)
        if status in (401, 403):
            raise SearchUnavailable(f"{method} {path}: {status} {body}")
        # The indexes are created at start-up, once Meilisearch answers: until then search is not
        # ready (503, retried), not broken. (A multi-search says so with 400, a single index 404.)
        if isinstance(body, dict) and body.get("code") == "index_not_found":
            raise SearchUnavailable(f"{method} {path}: {status} {body}")
        if status >= 400:
            raise ValueError(f"{method} {path}: {status} {body}")
        return body

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
            # The relay sends its next batch only once this task is seen done, so the poll interval
            # adds to every listing's wait; 50 ms costs Meilisearch one cheap GET per 50 ms.
            delay = min(delay * 2, 0.05)

    async def ensure_index(self, uid: str) -> None:
        status, _ = await self.send("GET", f"/indexes/{uid}")
        if status == 404:
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
