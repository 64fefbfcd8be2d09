"""HTTP plumbing of the money routes: exact JSON numbers and `Idempotency-Key`."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.contracts.models import IdempotencyRecord
from app.core.errors import Conflict


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


class ExactJSONRequest(Request):
    """Parses JSON numbers as Decimal: `0.1` stays 0.1 and 99999999999999.99 keeps its fen.

    Starlette's `json.loads` turns numbers into floats, which silently round amounts of 16
    significant digits and hide a third decimal place behind a float repr."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal, parse_constant=_refuse_constant)
        return self._json


class ExactJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description="重试安全：同一键的重复请求返回第一次的结果 / a retry returns the first result",
    ),
]

_KEY_REUSED = Conflict(
    code="idempotency_key_reused",
    message_en="This Idempotency-Key was already used for a different request.",
    message_zh="该 Idempotency-Key 已用于另一个不同的请求。",
)


def request_hash(route: str, body: BaseModel | None) -> str:
    canonical = json.dumps(
        {"route": route, "body": jsonable_encoder(body) if body is not None else None},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_KEY_STALE = "idempotency_key_stale"


async def idempotent(
    session: AsyncSession,
    *,
    user: User,
    key: str | None,
    route: str,
    body: BaseModel | None,
    operation: Callable[[], Awaitable[BaseModel]],
    changed_since: Callable[[Any], Awaitable[str | None]],
    ttl: timedelta,
    status_code: int = 200,
) -> Response:
    """Run `operation` once per (user, route, key) within `ttl`.

    The key row is inserted first, in the request's own transaction: a concurrent retry blocks on
    its unique index until the first commits, then replays the stored response — but only while
    `changed_since(stored response)` is None, i.e. the object is still in the state that response
    showed; otherwise 409 `idempotency_key_stale` (a replayed "registered" must not answer for an
    application reopened since). A key older than `ttl` is forgotten: the request runs anew. If
    the first request fails, its key row rolls back with it and a retry runs again."""
    if key is None:
        result = await operation()
        return JSONResponse(jsonable_encoder(result), status_code=status_code)
    digest = request_hash(route, body)
    where = (
        IdempotencyRecord.user_id == user.id,
        IdempotencyRecord.route == route,
        IdempotencyRecord.key == key,
    )
    inserted = await session.execute(
        insert(IdempotencyRecord)
        .values(user_id=user.id, route=route, key=key, request_hash=digest)
        .on_conflict_do_update(
            index_elements=[IdempotencyRecord.user_id, IdempotencyRecord.route, IdempotencyRecord.key],
            set_={"request_hash": digest, "status_code": None, "response": None, "created_at": func.now()},
            where=IdempotencyRecord.created_at < func.now() - ttl,
        )
        .returning(IdempotencyRecord.key)
    )
    if inserted.scalar_one_or_none() is None:
        stored = (await session.execute(select(IdempotencyRecord).where(*where))).scalar_one()
        if stored.request_hash != digest:
            raise _KEY_REUSED
        if (now := await changed_since(stored.response)) is not None:
            raise Conflict(
                code=_KEY_STALE,
                message_en="The application changed since this Idempotency-Key was answered; "
                "read it again before deciding.",
                message_zh="该 Idempotency-Key 应答后申请已变化，请重新读取后再操作。",
                extra={"current_status": now},
            )
        return JSONResponse(
            stored.response,
            status_code=stored.status_code or status_code,
            headers={"Idempotent-Replayed": "true"},
        )
    result = jsonable_encoder(await operation())
    await session.execute(
        update(IdempotencyRecord).where(*where).values(status_code=status_code, response=result)
    )
    return JSONResponse(result, status_code=status_code)
