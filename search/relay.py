"""The outbox relay (STYLE.md §5): claims due outbox rows with FOR UPDATE SKIP LOCKED, hands each
topic's batch to its handler, and marks the rows processed only when the handler returned — for
the index that means Meilisearch reported the task succeeded. A failing batch is retried with
exponential backoff (attempts, available_at, last_error); nothing is lost while Meilisearch is
down. Runs inside the API process and as `techex worker`; any number of replicas may run.

Wake-up: a statement trigger on the outbox table NOTIFYs `techex_outbox` when rows are inserted
(delivered at commit); a relay LISTENs (and wakes the relays it was given), and each polls every
`poll_seconds` as the fallback."""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import asyncpg
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.outbox.models import OutboxMessage

log = logging.getLogger("techex.relay")

CHANNEL = "techex_outbox"
# A handler raises to retry its whole batch, or returns {row id: error} for the rows to retry alone.
Handler = Callable[[AsyncSession, Sequence[OutboxMessage]], Awaitable[dict[int, str] | None]]


def backoff(attempts: int, *, base: float = 0.5, cap: float = 30.0) -> timedelta:
    """Delay before retry number `attempts` (1, 2, …): 0.5 s, 1 s, 2 s, … up to `cap`."""
    return timedelta(seconds=min(cap, base * 2 ** (attempts - 1)))


class Relay:
    def __init__(
        self,
        database: Database,
        handlers: dict[str, Handler],
        *,
        listen_dsn: str | None = None,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        max_backoff: float = 30.0,
        retry_delay: Callable[[int], timedelta] | None = None,
        also_wake: Sequence["Relay"] = (),
    ) -> None:
        self.database = database
        self.handlers = handlers
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        # Delay before retry number n; by default exponential up to max_backoff.
        self.retry_delay = retry_delay or (lambda attempts: backoff(attempts, cap=max_backoff))
        self.wake = asyncio.Event()
        # Relays of other topics in this process, woken by this one's LISTEN (one connection for all).
        self.also_wake = list(also_wake)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def run_once(self) -> int:
        """Claim and process one batch; the number of rows claimed (0 when nothing is due)."""
        async with self.database.sessionmaker() as session:
            # The relay gives way: rather than wait on a lock (a TRUNCATE, a migration, another relay's
            # advisory lock on the same listing) long enough to deadlock, it fails and retries later.
            await session.execute(text("SET LOCAL lock_timeout = '500ms'"))
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.processed_at.is_(None),
                        OutboxMessage.available_at <= func.now(),
                        OutboxMessage.topic.in_(list(self.handlers)),
                    )
                    .order_by(OutboxMessage.available_at, OutboxMessage.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            by_topic: dict[str, list[OutboxMessage]] = defaultdict(list)
            for row in rows:
                by_topic[row.topic].append(row)
            for topic, batch in by_topic.items():
                # Read before the handler: a rolled-back savepoint expires the ORM objects.
                attempts_of = {row.id: row.attempts or 0 for row in batch}
                try:
                    async with session.begin_nested():
                        failed = await self.handlers[topic](session, batch) or {}
                except Exception as exc:  # any failure: retry this topic's batch later
                    log.warning("outbox batch of %s failed (%d rows): %r", topic, len(batch), exc)
                    failed = {row_id: repr(exc) for row_id in attempts_of}
                for row_id, previous in attempts_of.items():
                    if row_id in failed:
                        attempts = previous + 1
                        await session.execute(
                            update(OutboxMessage)
                            .where(OutboxMessage.id == row_id)
                            .values(
                                attempts=attempts,
                                available_at=func.now() + self.retry_delay(attempts),
                                last_error=failed[row_id][:2000],
                            )
                        )
                done = [row_id for row_id in attempts_of if row_id not in failed]
                if done:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(done))
                        .values(processed_at=func.now())
                    )
            await session.commit()
            return len(rows)

    async def drain(self, *, rounds: int = 1000) -> None:
        """Process until nothing is due (tests and `techex worker --once`)."""
        for _ in range(rounds):
            if not await self.run_once():
                return

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                claimed = await self.run_once()
            except Exception:  # the database itself failed: wait and try again
                log.exception("outbox relay round failed")
                claimed = 0
            if claimed:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)

    async def _listen(self) -> None:
        assert self.listen_dsn is not None
        while not self._stopping.is_set():
            try:
                connection = await asyncpg.connect(self.listen_dsn)
            except Exception:
                await asyncio.sleep(2)
                continue
            try:
                await connection.add_listener(CHANNEL, lambda *_: self._wake_all())
                self._wake_all()  # rows may have arrived while we were not listening
                while not self._stopping.is_set() and not connection.is_closed():  # noqa: ASYNC110 — also watches the connection
                    await asyncio.sleep(1)
            except Exception:
                log.warning("outbox LISTEN connection lost; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await connection.close()

    def _wake_all(self) -> None:
        for relay in (self, *self.also_wake):
            relay.wake.set()

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._loop(), name="outbox-relay"))
        if self.listen_dsn:
            self._tasks.append(asyncio.create_task(self._listen(), name="outbox-listen"))

    async def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


def plain_dsn(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy's URL says postgresql+asyncpg://."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
