"""Helpers for listing tests: signed-in owners of each kind and quick create/publish calls."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OrganizationKind, Role
from app.audit.models import AuditEntry
from app.outbox.models import OutboxMessage
from tests.fixtures.accounts import SignedIn

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
OWNER_KIND = {
    "achievements": OrganizationKind.university,
    "demands": OrganizationKind.enterprise,
    "experts": OrganizationKind.university,
    "agencies": OrganizationKind.agency,
}
KINDS = tuple(MINIMAL)


async def count(db: AsyncSession, model: type) -> int:
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def counts(db: AsyncSession, model: type) -> tuple[int, int, int]:
    """Rows of `model`, audit entries and outbox messages: what a rejected request must leave unchanged."""
    return (await count(db, model), await count(db, AuditEntry), await count(db, OutboxMessage))


@pytest.fixture
def owner(signed_in: Callable[..., Awaitable[SignedIn]]) -> Callable[..., Awaitable[SignedIn]]:
    """`await owner("demands")`: a member of a verified organization that may own that kind."""

    async def make(path: str, *, verified: bool = True, role: Role = Role.member) -> SignedIn:
        return await signed_in(role=role, kind=OWNER_KIND[path], verified=verified)

    return make


@pytest.fixture
def make_listing(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Create (and by default publish) a listing; returns its JSON."""

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
