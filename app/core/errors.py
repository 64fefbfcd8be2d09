"""The error family every service raises, and the one place that renders it as RFC 9457 problem+json."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from asyncpg.exceptions import CannotConnectNowError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core.i18n import Language, negotiate, validation_message
from app.core.logging import request_id_var

PROBLEM_JSON = "application/problem+json"
# The members RFC 9457 defines and those every problem of this API carries: an extension member
# by one of these names would overwrite them (a 409 once answered `"status": "registered"`).
RESERVED_MEMBERS = frozenset(
    {"type", "title", "status", "detail", "instance", "code", "request_id", "errors"}
)
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message_en: str
    message_zh: str

    def render(self, language: Language) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message_zh if language == "zh" else self.message_en,
        }


@dataclass
class AppError(Exception):
    """A domain error with a stable machine code and a message in both languages."""

    status: ClassVar[int] = 400
    code: str = "bad_request"
    message_en: str = "The request could not be processed."
    message_zh: str = "请求无法处理。"
    errors: Sequence[FieldError] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if clash := RESERVED_MEMBERS & self.extra.keys():
            raise ValueError(f"extension members {sorted(clash)} would overwrite the problem's own")

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


@dataclass
class NotFound(AppError):
    status: ClassVar[int] = 404
    code: str = "not_found"
    message_en: str = "The resource does not exist."
    message_zh: str = "资源不存在。"


@dataclass
class Unauthenticated(AppError):
    status: ClassVar[int] = 401
    code: str = "unauthenticated"
    message_en: str = "Authentication is required."
    message_zh: str = "需要登录。"
    headers: Mapping[str, str] = field(default_factory=lambda: {"WWW-Authenticate": "Bearer"})


@dataclass
class NotPermitted(AppError):
    status: ClassVar[int] = 403
    code: str = "permission_denied"
    message_en: str = "You are not allowed to do this."
    message_zh: str = "无权执行此操作。"


@dataclass
class Conflict(AppError):
    status: ClassVar[int] = 409
    code: str = "conflict"
    message_en: str = "The request conflicts with the current state."
    message_zh: str = "请求与当前状态冲突。"


@dataclass
class InvalidTransition(Conflict):
    code: str = "invalid_transition"
    message_en: str = "This action is not allowed in the current state."
    message_zh: str = "当前状态下不允许此操作。"


@dataclass
class PreconditionFailed(AppError):
    status: ClassVar[int] = 412
    code: str = "precondition_failed"
    message_en: str = "The resource was changed by someone else; reload and try again."
    message_zh: str = "数据已被他人修改，请刷新后重试。"


@dataclass
class PreconditionRequired(AppError):
    status: ClassVar[int] = 428
    code: str = "precondition_required"
    message_en: str = 'Send the version you read in If-Match (e.g. "3"), so that no change is lost.'
    message_zh: str = '请在 If-Match 中发送读取时的版本（如 "3"），以免覆盖他人的修改。'


@dataclass
class ValidationFailed(AppError):
    status: ClassVar[int] = 422
    code: str = "validation_failed"
    message_en: str = "Some fields are invalid."
    message_zh: str = "部分字段无效。"


@dataclass
class TooManyRequests(AppError):
    status: ClassVar[int] = 429
    code: str = "too_many_requests"
    message_en: str = "Too many requests; try again later."
    message_zh: str = "请求过于频繁，请稍后再试。"


@dataclass
class ServiceUnavailable(AppError):
    status: ClassVar[int] = 503
    code: str = "service_unavailable"
    message_en: str = "A service this request needs is unavailable; try again later."
    message_zh: str = "依赖的服务暂不可用，请稍后再试。"


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is shaped (`application/problem+json`).

    `status` is always the HTTP status; the state of the object a 409 refers to is `current_status`.
    Members other than the RFC's are extensions, present only on the problems that need them.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI naming the kind of problem; ends with `code`")
    title: str = Field(description="HTTP status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, in the language of `Accept-Language` (中文 by default)")
    code: str = Field(description="stable machine-readable code, e.g. `invalid_transition`")
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = Field(default=None, description="the request's id, also in `X-Request-ID`")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="invalid input: one `{field, code, message}` per offending field"
    )
    current_status: str | None = Field(
        default=None, description="409: the state (a deal's stage) the application, listing or deal is in now"
    )
    action: str | None = Field(default=None, description="409 / 403: the action refused")
    allowed_actions: list[str] | None = Field(
        default=None, description="409 / 403: the actions the caller may take in `current_status`"
    )
    allowed: list[str] | None = Field(
        default=None, description="409 `invalid_stage_transition`: the stages the caller may move the deal to"
    )
    duplicate_of: dict[str, Any] | None = Field(
        default=None, description="409 `duplicate_*`: the existing object the request would duplicate"
    )
    current_version: int | None = Field(
        default=None, description="412: the version the resource has now (send it in `If-Match`)"
    )
    field: str | None = Field(default=None, description="409: the field the conflict is about")
    report: dict[str, Any] | None = Field(
        default=None, description="422 of an import: the per-row report (`ImportReportOut`)"
    )
    deal_id: str | None = Field(
        default=None, description="403 / 409 of confidential details: the deal the refusal concerns"
    )
    undertaken_version: int | None = Field(
        default=None,
        description="403 `undertaking_required`: the version of the details the caller last undertook for",
    )
    undertaking_text_version: str | None = Field(
        default=None, description="403 `undertaking_required`: the undertaking text's version to accept"
    )
    allowed_types: list[str] | None = Field(
        default=None, description="415 `unsupported_document_type`: the document types accepted"
    )
    declared_type: str | None = Field(
        default=None, description="415 `unsupported_document_type`: the type the upload declared"
    )
    min_next_bid: str | None = Field(
        default=None, description="422 `bid_too_low` / `bid_off_increment`: the lowest valid bid now (元)"
    )
    published_price: str | None = Field(
        default=None,
        description="409 `price_differs_from_published`: the price the deal's pricing route made public",
    )


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the statuses it may answer with a problem document.

    The schema sits under `application/problem+json`, the type the handlers send; FastAPI would
    put a `model` under `application/json`, so the schema is referenced and `install_error_handlers`
    adds `Problem` to the document's components.
    """
    return {
        status: {"content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://techex.example/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": _request_id(request),
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def _request_id(request: Request) -> str | None:
    return request_id_var.get() or getattr(request.state, "request_id", None)


def _language(request: Request) -> Language:
    return negotiate(request.headers.get("accept-language"))


def _field_path(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:] or parts
    return ".".join(parts)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    language = _language(request)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        detail=exc.message_zh if language == "zh" else exc.message_en,
        errors=[e.render(language) for e in exc.errors] or None,
        extra=exc.extra,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = _language(request)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(
            request,
            status=400,
            code="malformed_json",
            detail="请求体不是有效的 JSON。" if language == "zh" else "The request body is not valid JSON.",
        )
    errors = [
        {
            "field": _field_path(e.get("loc", ())),
            "code": e.get("type", "invalid"),
            "message": validation_message(e.get("type", ""), e.get("msg", ""), language, e.get("ctx")),
        }
        for e in raw
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    detail = f"字段无效：{fields}" if language == "zh" else f"Invalid fields: {fields}"
    return problem_response(request, status=422, code="validation_failed", detail=detail, errors=errors)


_HTTP_CODES = {
    404: ("not_found", "The resource does not exist.", "资源不存在。"),
    405: ("method_not_allowed", "This method is not allowed here.", "不支持该请求方法。"),
    413: ("payload_too_large", "The request body is too large.", "请求体过大。"),
    415: ("unsupported_media_type", "This content type is not supported.", "不支持该内容类型。"),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    language = _language(request)
    code, en, zh = _HTTP_CODES.get(
        exc.status_code,
        (HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"), str(exc.detail), str(exc.detail)),
    )
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        detail=zh if language == "zh" else en,
        headers=headers,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route offers at this path, found by asking the routes themselves: where a
    path has several routes (GET and POST /subscriptions), Starlette's 405 names the first's only."""
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


@dataclass
class DatabaseUnavailable(ServiceUnavailable):
    code: str = "database_unavailable"
    message_en: str = "The database is unreachable or the connection was lost; try again."
    message_zh: str = "数据库暂不可用或连接中断，请重试。"
    headers: Mapping[str, str] = field(default_factory=lambda: {"Retry-After": "1"})


@dataclass
class DatabaseBusy(ServiceUnavailable):
    code: str = "database_busy"
    message_en: str = "Too many requests are waiting for the database; try again."
    message_zh: str = "数据库繁忙，请稍后重试。"
    headers: Mapping[str, str] = field(default_factory=lambda: {"Retry-After": "1"})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lost or refused connection (database restarting, connection killed) is for the pool to
    heal, and a request that waited its whole timeout for a free connection met a load peak: not
    bugs, 503, so that the client retries. Any other database error is a bug: 500."""
    if isinstance(exc, PoolTimeout):
        log.warning("database_busy", path=request.url.path)
        return await _app_error(request, DatabaseBusy())
    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if lost or isinstance(exc, ConnectionError | CannotConnectNowError):
        log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return await _app_error(request, DatabaseUnavailable())
    return await _unhandled(request, exc)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Answered outside the request-context middleware: the id is named here, in the log and the
    # response alike, so that the caller's id finds the traceback.
    request_id = _request_id(request)
    log.exception("unhandled_error", path=request.url.path, request_id=request_id)
    language = _language(request)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail="服务器内部错误，已记录。"
        if language == "zh"
        else "Internal server error; it has been logged.",
        headers={"X-Request-ID": request_id} if request_id else None,
    )


def _document_problem(app: FastAPI) -> None:
    """Add `Problem` to the OpenAPI components that `problem_responses` refer to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    _document_problem(app)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in (DBAPIError, PoolTimeout, ConnectionError, CannotConnectNowError):
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unhandled)
