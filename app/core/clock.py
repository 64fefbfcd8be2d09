"""The server's clock: every period, bid time and deadline of the trading routes is read here, never
from the client. Tests move it with `time-machine` (which patches `datetime.now`)."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
