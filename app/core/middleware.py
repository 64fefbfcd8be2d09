"""Pure ASGI middleware: request id, access log, Prometheus metrics and the body size limit.

Pure ASGI rather than BaseHTTPMiddleware so streaming bodies are not buffered and
contextvars set here are visible to the endpoint.
"""

import functools
import re
import time
import uuid
from collections.abc import Mapping

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.i18n import negotiate
from app.core.logging import request_id_var

log = structlog.get_logger("techex.access")

REQUESTS = Counter("techex_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "techex_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@functools.cache
def _metrics(method: str, template: str, status: int) -> tuple[Counter, Histogram]:
    """The children of one route's metrics, looked up once: `labels()` takes a lock and builds
    its key on every call. Bounded like the metrics themselves, by routes × methods × statuses."""
    return REQUESTS.labels(method, template, str(status)), LATENCY.labels(method, template)


def _route_template(scope: Scope) -> str:
    """The matched route's full path template, so metrics are labelled by route, never by raw id.

    FastAPI ≥0.16x keeps included routers nested: `scope["route"]` lacks the include prefixes,
    while the effective route context it records carries the full template.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template or "unmatched"


class RequestContextMiddleware:
    """Assigns the request id, logs one line per request and records metrics by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        # A client-chosen id is kept for tracing across services, but only if it is harmless in logs.
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # Also in the request's state: an unhandled error is answered by Starlette's outermost
        # middleware, after this one has reset the context variable.
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:  # a problem response may have named it already
                    headers.append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            counter, histogram = _metrics(scope["method"], _route_template(scope), status)
            counter.inc()
            histogram.observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            request_id_var.reset(token)


class _BodyTooLarge(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit with a 413 problem, declared or streamed.

    Starlette's own limiter answers in text/plain; every error of this API is problem+json.
    `overrides` maps a path prefix, or a pattern of paths with ids in them, to its own limit (file
    uploads need more than JSON calls).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: Mapping[str | re.Pattern[str], int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if prefix.match(path) if isinstance(prefix, re.Pattern) else path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(Request(scope), limit)(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, so FastAPI's body parsing re-raises it to our handler.
                    raise _BodyTooLarge
            return message

        await self.app(scope, limited_receive, send)


def _too_large(request: Request, limit: int) -> Response:
    zh = negotiate(request.headers.get("accept-language")) == "zh"
    return problem_response(
        request,
        status=413,
        code="payload_too_large",
        detail=f"请求体超过 {limit} 字节上限。"
        if zh
        else f"The request body exceeds the {limit}-byte limit.",
    )
