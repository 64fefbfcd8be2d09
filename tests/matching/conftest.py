"""Matching tests reuse the search helpers, plus a real webhook receiver on 127.0.0.1."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from search.server import free_port
from tests.search.conftest import _empty_indexes, engine, indexed, make_listing, owner  # noqa: F401


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    received: list[dict[str, Any]] = field(default_factory=list)
    # When set, each request waits (counted in `waiting`) until the event is set: a slow receiver.
    hold: asyncio.Event | None = None
    waiting: int = 0

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.hold is not None:
            self.waiting += 1
            await self.hold.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append(
            {
                "status": status,
                "body": json.loads(body),
                "raw": body,
                "headers": headers,
                "delivery": headers.get("webhook-id"),
            }
        )
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Receiver]:
    async with _serving() as receiver:
        yield receiver


@pytest.fixture
async def other_webhook_receiver() -> AsyncIterator[Receiver]:
    async with _serving() as receiver:
        yield receiver


@contextlib.asynccontextmanager
async def _serving() -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(url=f"http://127.0.0.1:{port}/hook")
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 — uvicorn offers no event
        await asyncio.sleep(0.01)
    yield receiver
    server.should_exit = True
    await task
