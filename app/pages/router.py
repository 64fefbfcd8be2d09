"""The public pages (no login, no JavaScript, nothing from another host): certificate verification,
publicity, the progress dashboard, and browsing achievements and demands. HTML for people beside the
JSON API, from the same service functions; an error is an HTML page in Chinese, not problem+json."""

import shlex
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import AfterValidator, BeforeValidator

from app.contracts.vocabulary import ContractType
from app.core.db import SessionDep
from app.core.errors import AppError
from app.core.regions import current_regions
from app.core.types import CHINA, today_in_china
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import TransferMode
from app.pages import formatting, service

HERE = Path(__file__).parent
STATIC_PATH = "/assets"
templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
templates.env.filters |= {
    "yuan": formatting.yuan,
    "large": formatting.large,
    "shell": shlex.quote,
    "beijing": formatting.beijing,
}
templates.env.globals |= {
    "urlencode": urlencode,
    "regions": current_regions,
    "fields": {f.value: f.label for f in TechnologyField},
    "types": {t.value: t.label for t in ContractType},
    "modes": {m.value: m.label for m in TransferMode},
    "static": STATIC_PATH,
    "china": CHINA,
}
static = StaticFiles(directory=HERE / "static")


def problem_page(request: Request, status: int, title: str, detail: str) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "detail": detail}, status_code=status
    )


class PageRoute(APIRoute):
    """Errors of a page answer as a page: a person followed a link or a QR code."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                names = "、".join(str(error["loc"][-1]) for error in exc.errors())
                return problem_page(request, 400, "参数有误", f"请检查：{names}。")
            except AppError as exc:
                title = "未找到" if exc.status == 404 else "暂时无法显示"
                page = problem_page(request, exc.status, title, exc.message_zh)
                page.headers.update(exc.headers)  # Retry-After of a search that is down
                return page

        return page_handler


router = APIRouter(route_class=PageRoute, include_in_schema=False)
# A form's "all" choice and an empty date field send an empty value: no filter.
Blank = BeforeValidator(lambda value: value or None)
EARLIEST, LATEST = date(1980, 1, 1), date(2199, 12, 31)  # the statistics API's bounds


def _plausible(day: date | None) -> date | None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise ValueError(f"a date from {EARLIEST} to {LATEST}")
    return day


Day = Annotated[date | None, Blank, AfterValidator(_plausible), Query()]


@router.get("/verify/{number}")
async def verify(
    request: Request,
    session: SessionDep,
    number: str,
    version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    found = await service.verification(
        session, number, version, show_amounts=request.app.state.settings.publicity_shows_amounts
    )
    return templates.TemplateResponse(request, "verify.html", {"v": found, "c": found.certificate})


@router.get("/verify/trade/{number}")
async def verify_trade(request: Request, session: SessionDep, number: str) -> Response:
    found = await service.trade_verification(
        session, number, show_amounts=request.app.state.settings.publicity_shows_amounts
    )
    return templates.TemplateResponse(request, "verify_trade.html", {"c": found})


@router.get("/publicity")
async def publicity(
    request: Request,
    session: SessionDep,
    city: Annotated[str | None, Query(pattern=r"^(\d{4})?$")] = None,
    type_: Annotated[ContractType | None, Blank, Query(alias="type")] = None,
    from_: Annotated[Day, Query(alias="from")] = None,
    to: Day = None,
    page: Annotated[int, Query(ge=1, le=50_000)] = 1,
) -> Response:
    filters = service.PublicityFilters(city or None, type_, from_, to, page)
    settings = request.app.state.settings
    items, total = await service.publicity(session, filters, show_amounts=settings.publicity_shows_amounts)
    context = {
        "filters": filters,
        "items": items,
        "total": total,
        "pages": max(1, -(-total // service.PAGE_SIZE)),
        "cities": await service.city_choices(session),
        "show_amounts": settings.publicity_shows_amounts,
    }
    return templates.TemplateResponse(request, "publicity.html", context)


@router.get("/publicity/trading")
async def trading_publicity(request: Request, session: SessionDep) -> Response:
    context = {"board": await service.trading_board(session), "limit": service.BOARD_SIZE}
    return templates.TemplateResponse(request, "trading.html", context)


@router.get("/dashboard")
async def dashboard(
    request: Request,
    session: SessionDep,
    from_: Annotated[Day, Query(alias="from")] = None,
    to: Day = None,
) -> Response:
    today = today_in_china()
    since = from_ if from_ or to else today.replace(month=1, day=1)
    until = to if from_ or to else today
    context = {
        "as_of": today,
        "targets": await service.targets(session, today),
        "since": since,
        "until": until,
        "breakdowns": await service.breakdowns(session, since, until),
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


LAST_SEARCH_PAGE = service.SEARCH_OFFSET_MAX // service.PAGE_SIZE + 1


async def _listings(request: Request, kind: str, template: str, view: service.SearchFiltersView) -> Response:
    found = await service.search(request.app.state.search, kind, view)
    context = {
        "view": view,
        "found": found,
        "pages": max(1, min(-(-found.total // service.PAGE_SIZE), LAST_SEARCH_PAGE)),
        "kind": kind,
    }
    return templates.TemplateResponse(request, template, context)


Q = Annotated[str, Query(max_length=200)]
Field = Annotated[TechnologyField | None, Blank, Query()]
Region = Annotated[str | None, Query(pattern=r"^(\d{6})?$")]
Page = Annotated[int, Query(ge=1, le=LAST_SEARCH_PAGE)]


@router.get("/achievements")
async def achievements(
    request: Request,
    q: Q = "",
    field: Field = None,
    region: Region = None,
    transfer_mode: Annotated[TransferMode | None, Blank, Query()] = None,
    page: Page = 1,
) -> Response:
    view = service.SearchFiltersView(q.strip(), field, region or None, transfer_mode, page)
    return await _listings(request, "achievement", "listings.html", view)


@router.get("/demands")
async def demands(
    request: Request, q: Q = "", field: Field = None, region: Region = None, page: Page = 1
) -> Response:
    view = service.SearchFiltersView(q.strip(), field, region or None, None, page)
    return await _listings(request, "demand", "listings.html", view)
