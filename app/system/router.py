"""Liveness, readiness and metrics for orchestrators and Prometheus."""

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    checks: dict[str, bool] = {}


@router.get("/healthz", response_model=Health, summary="Liveness · 存活检查")
async def healthz() -> Health:
    """The process is alive and serving. 存活检查。"""
    return Health(status="ok")


async def _database_ok(request: Request) -> bool:
    try:
        async with request.app.state.database.engine.connect() as connection:
            await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=2)
        return True
    except Exception:  # unreachable, timed out or refused: all mean "not ready"
        return False


@router.get(
    "/readyz", response_model=Health, responses={503: {"model": Health}}, summary="Readiness · 就绪检查"
)
async def readyz(request: Request) -> Response:
    """PostgreSQL and Meilisearch are both reachable; 503 otherwise. 就绪检查。"""
    database_ok, search_ok = await asyncio.gather(_database_ok(request), request.app.state.search.healthy())
    ready = database_ok and search_ok
    body = Health(
        status="ready" if ready else "unavailable", checks={"database": database_ok, "meilisearch": search_ok}
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
