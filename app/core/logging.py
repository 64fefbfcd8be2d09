"""JSON logs through structlog; every line carries the request id of the request that wrote it."""

import logging
import sys
from contextvars import ContextVar

import structlog
from structlog.types import EventDict, WrappedLogger

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Never let a credential reach a log line, whatever a caller passes as a field.
_SECRET_KEYS = {"password", "token", "access_token", "refresh_token", "authorization", "secret", "master_key"}


def _add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key in event.keys() & _SECRET_KEYS:
        event[key] = "***"
    return event


class _StderrLogger:
    """structlog's own loggers write their rendered line straight to stderr: the stdlib route
    (LogRecord, handler lock, formatter) cost ≈ 100 µs per access-log line, the bulk of a cheap
    request's logging (docs/benchmarks.md). sys.stderr is looked up per line, so a replaced stream
    (pytest's capture) is always the current one."""

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = error = critical = exception = fatal = msg


def _logger_factory(*args: object) -> _StderrLogger:
    return _StderrLogger(str(args[0]) if args else "")


def _add_logger_name(logger: WrappedLogger, _: str, event: EventDict) -> EventDict:
    event.setdefault("logger", getattr(logger, "name", ""))
    return event


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    # Both routes add the level and logger name their own way, then the same fields.
    common = [structlog.processors.TimeStamper(fmt="iso", utc=True), _add_request_id, _redact]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            _add_logger_name,
            *common,
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=_logger_factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    # The standard library's records (uvicorn, SQLAlchemy, Alembic …) get the same JSON lines.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, *common],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own handlers would print plain text beside ours; route them through the root logger.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our middleware logs each request with its id; uvicorn's access line would duplicate it without one.
    # Client libraries log every outgoing call at INFO: noise at our volume.
    for name in ("uvicorn.access", "httpx", "httpx2", "pgserver"):
        logging.getLogger(name).setLevel(logging.WARNING)
