"""A lost database connection (server restarted, connection killed) answers at most one 503, never
a 500, and the pools heal: the service does not pre-ping every checkout (docs/benchmarks.md)."""

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import Database

NAME = "techex-connection-loss-test"


async def _kill_connections(database: Database) -> None:
    """Terminate every connection of the test's pools, and wait until those backends are gone."""
    async with database.engine.connect() as killer:
        # Autocommit: pg_stat_activity is a snapshot per transaction.
        await killer.execution_options(isolation_level="AUTOCOMMIT")
        killed = (
            await killer.scalars(
                # Materialised first, so the terminating call never sees another application's rows.
                text(
                    "WITH victims AS MATERIALIZED"
                    " (SELECT pid FROM pg_stat_activity WHERE application_name = :n)"
                    " SELECT pid FROM victims WHERE pg_terminate_backend(pid)"
                ),
                {"n": NAME},
            )
        ).all()
        assert killed
        for _ in range(100):
            left = await killer.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": killed}
            )
            if left == 0:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the terminated connections did not go away")


def _is_lost_connection_problem(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["code"] == "database_unavailable"
        and response.headers["retry-after"] == "1"
    )


async def test_killed_connections_answer_503_once_then_the_pool_reconnects(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, signed_in
) -> None:  # type: ignore[no-untyped-def]
    who = await signed_in()
    shared = app.state.database
    # Requests use a pool of their own here, so that killing it leaves the suite's pool alone.
    isolated = Database.from_url(settings.database_url, pool_size=2, application_name=NAME)
    app.state.database = isolated
    me, missing = "/api/v1/users/me", f"/api/v1/achievements/{uuid.uuid4()}"
    try:
        assert (await client.get(me, headers=who.headers)).status_code == 200  # ORM session path
        assert (await client.get(missing)).status_code == 404  # the detail's raw asyncpg path

        await _kill_connections(shared)
        assert _is_lost_connection_problem(await client.get(me, headers=who.headers))
        assert (await client.get(me, headers=who.headers)).status_code == 200

        # The detail's asyncpg pool may notice the loss and reconnect before it hands one out.
        await _kill_connections(shared)
        first = await client.get(missing)
        assert first.status_code == 404 or _is_lost_connection_problem(first)
        assert (await client.get(missing)).status_code == 404
    finally:
        app.state.database = shared
        await isolated.dispose()
