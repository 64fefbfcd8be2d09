"""Helpers for search and matching tests: publish listings through the API, wait for the real
Meilisearch to have them (the in-process relay indexes them), read documents back."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.accounts.models import OrganizationKind, Role
from app.core.config import Settings
from search import lexical
from search.engine import Engine
from tests.fixtures.accounts import SignedIn

OWNER_KIND = {
    "achievements": OrganizationKind.university,
    "demands": OrganizationKind.enterprise,
    "experts": OrganizationKind.university,
    "agencies": OrganizationKind.agency,
}
MINIMAL: dict[str, dict[str, Any]] = {
    "achievements": {
        "title": "一种水稻抗倒伏栽培方法",
        "description": "通过调控株型提高抗倒伏能力。",
        "field": "agriculture",
    },
    "demands": {
        "title": "锂电池极片涂布缺陷检测",
        "description": "需要在线检测涂布缺陷。",
        "field": "new_energy",
    },
    "experts": {"name": "张明", "biography": "长期从事作物栽培研究。", "fields": ["agriculture"]},
    "agencies": {
        "name": "江苏某技术转移中心",
        "description": "提供技术转移服务。",
        "service_kinds": ["technology_transfer"],
    },
}
KIND_OF = {"achievements": "achievement", "demands": "demand", "experts": "expert", "agencies": "agency"}
# A paper on AIDS: what "AI" found while Meilisearch matched the last word as a prefix.
AIDS_SURVEY = {"title": "孕妇人群AIDS认知程度调查", "description": "AIDS健康教育干预。"}


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    """The relays' client (the indexing key): it reads and writes documents, and searches."""
    return app.state.engines.indexing


@pytest.fixture
async def master_engine(settings: Settings) -> AsyncIterator[Engine]:
    """The operator's client (the master key), as `techex reindex` and `search-check` use it."""
    master = Engine.from_settings(settings, master=True)
    yield master
    await master.aclose()


@pytest.fixture
def owner(signed_in: Callable[..., Awaitable[SignedIn]]) -> Callable[..., Awaitable[SignedIn]]:
    async def make(path: str, *, role: Role = Role.member, verified: bool = True) -> SignedIn:
        return await signed_in(role=role, kind=OWNER_KIND[path], verified=verified)

    return make


@pytest.fixture
def make_listing(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(path: str, who: SignedIn, *, publish: bool = True, **fields: Any) -> dict[str, Any]:
        response = await client.post(f"/api/v1/{path}", json={**MINIMAL[path], **fields}, headers=who.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        if publish:
            response = await client.post(f"/api/v1/{path}/{body['id']}/publish", headers=who.headers)
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    return make


async def document(
    engine: Engine, kind: str, listing_id: str, *, vectors: bool = False
) -> dict[str, Any] | None:
    status, body = await engine.send(
        "GET",
        f"/indexes/{engine.index(kind)}/documents/{listing_id}",
        params={"retrieveVectors": "true"} if vectors else None,
    )
    return body if status == 200 else None


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> float:  # noqa: ASYNC109
    """Poll until `check()` holds; the seconds it took. Fails the test on timeout."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def indexed(engine: Engine) -> Callable[..., Awaitable[dict[str, Any]]]:
    """`await indexed("achievement", id)`: the document once the relay has sent it whole — the
    relay sends it without its vector first (search/indexer.py), and ranking needs the vector."""

    async def wait(
        kind: str,
        listing_id: str,
        *,
        version: int | None = None,
        timeout: float = 20.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def check() -> bool:
            doc = await document(engine, kind, listing_id, vectors=True)
            if (
                doc is not None
                and (version is None or doc.get("version") == version)
                and doc["_vectors"][lexical.EMBEDDER]["embeddings"]
            ):
                found.update(doc)
                return True
            return False

        await wait_for(check, timeout)
        return found

    return wait


@pytest.fixture(autouse=True)
async def _empty_indexes(request: pytest.FixtureRequest) -> None:
    """Each test that uses the app starts from empty indexes, as it starts from empty tables."""
    if "app" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("app").state.engines.indexing
    await engine.setup()
    for kind in KIND_OF.values():
        await engine.wait(await engine.call("DELETE", f"/indexes/{engine.index(kind)}/documents"))
