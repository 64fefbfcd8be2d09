"""What each public page shows, read through the same functions the API answers with: the
certificate verification and publicity of app/contracts/public.py, the trading publicity of
app/trading/publicity, the progress and statistics of app/stats, the search of
app/matching/search.py. No SQL of its own."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts import public
from app.contracts.vocabulary import ContractType
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.core.regions import current_regions
from app.core.vocabulary import TechnologyField
from app.listings.vocabulary import TransferMode
from app.matching import search as searching
from app.matching.schemas import SearchFilters
from app.pages import charts
from app.stats import service as stats
from app.stats.queries import GroupBy, totals
from app.trading.certificates import service as certificates
from app.trading.certificates.schemas import NUMBER_PATTERN, CertificateVerification
from app.trading.publicity import service as pricing_publicity
from search.engine import Engine

PAGE_SIZE = 20
SEARCH_OFFSET_MAX = 900  # the search API's own bound on `offset`

STATUS_WORDS = {
    "valid": ("有效", "该登记现行有效，证明内容以下表为准。"),
    "amended": ("已变更", "该合同已办理变更登记，金额以下表（最新一版证明）为准。"),
    "cancelled": ("已注销", "该登记已注销，不再有效，不计入技术合同统计。"),
    "suspended": ("异议复核中", "有人对该登记提出异议，登记机构正在复核；复核结束前请勿以此证明为据。"),
    "revoked": ("已撤销", "该登记经异议复核后不予登记，原证明已撤销，不再有效。"),
}

NO_CERTIFICATE = NotFound(
    code="certificate_not_found",
    message_en="No certificate has this number.",
    message_zh="没有该编号的登记证明。",
)


@dataclass
class Verification:
    certificate: public.CertificatePublic
    asked_version: int | None
    status_word: str
    explanation: str
    superseded: bool
    show_amounts: bool
    canonical: str


async def verification(
    session: AsyncSession, number: str, version: int | None, *, show_amounts: bool
) -> Verification:
    if not number.isdigit() or not 14 <= len(number) <= 16:
        raise NO_CERTIFICATE
    found = await public.verify(session, number, version)
    superseded = found.status == "superseded"
    if superseded:
        word = "已被新版本取代"
        explanation = (
            f"您所持的是第 {version} 版证明，登记机构已出具第 {found.certificate_version} 版；"
            "旧版上的金额不再有效，请以下表（当前版本）为准。"
        )
    else:
        word, explanation = STATUS_WORDS[found.status]
    canonical = found.canonical
    if not show_amounts:
        # The amounts are not published; the holder of the printout reads them from it.
        parts = canonical.split("|")
        parts[5:7] = ["〔证明上的合同成交额〕", "〔证明上的技术交易额〕"]
        canonical = "|".join(parts)
    return Verification(found, version, word, explanation, superseded, show_amounts, canonical)


TRADE_NUMBER = re.compile(NUMBER_PATTERN)


async def trade_verification(
    session: AsyncSession, number: str, *, show_amounts: bool
) -> CertificateVerification:
    """A transaction certificate's check; a malformed number is unknown like any other (404)."""
    if not TRADE_NUMBER.match(number):
        raise certificates.CERTIFICATE_NOT_FOUND
    return await certificates.verify(session, number, show_amounts=show_amounts)


@dataclass
class PublicityFilters:
    city: str | None = None
    contract_type: ContractType | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        """The page's GET parameters, with `changes`: what a paging link carries."""
        values = {
            "city": self.city,
            "type": self.contract_type.value if self.contract_type else None,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
            "page": self.page,
        } | changes
        return {key: str(value) for key, value in values.items() if value not in (None, "", 1)}


async def city_choices(session: AsyncSession) -> list[tuple[str, str]]:
    """The cities registered contracts come from (the summary tables answer: cheap at any size)."""
    groups = await totals(session, GroupBy.city)
    return [(group.key, stats.label(GroupBy.city, group.key)) for group in groups]


async def publicity(
    session: AsyncSession, filters: PublicityFilters, *, show_amounts: bool
) -> tuple[list[public.PublicityItem], int]:
    page = PageParams(limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE)
    found = await public.publicity(
        session,
        page,
        show_amounts=show_amounts,
        region=filters.city,
        since=filters.since,
        until=filters.until,
        contract_type=filters.contract_type,
    )
    return found.items, found.total


# Each section of /publicity/trading lists at most this many (the API pages through the rest).
BOARD_SIZE = 100


async def trading_board(session: AsyncSession) -> pricing_publicity.Board:
    return await pricing_publicity.board(session, BOARD_SIZE)


@dataclass
class TargetView:
    progress: stats.Progress
    region_label: str
    chart: Markup
    months: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)  # month, amount, cumulative


def region_label(prefixes: list[str]) -> str:
    names = current_regions()
    return "、".join(names.get(prefix.ljust(6, "0"), prefix) for prefix in prefixes)


async def target_view(session: AsyncSession, target_id: uuid.UUID, as_of: date) -> TargetView:
    progress = await stats.progress(session, target_id=target_id, as_of=as_of)
    target = progress.target
    until = min(as_of, target.period_end)
    monthly: dict[str, Decimal] = {}
    if until >= target.period_start:
        groups = await totals(
            session, GroupBy.month, since=target.period_start, until=until, prefixes=target.region_prefixes
        )
        monthly = {group.key: getattr(group, target.metric.value) for group in groups}
    rows: list[tuple[date, Decimal, Decimal]] = []
    running = Decimal("0.00")
    if until >= target.period_start:
        for month in charts.chart_months(target.period_start, until):
            amount = monthly.get(month.strftime("%Y-%m"), Decimal("0.00"))
            running += amount
            rows.append((month, amount, running))
    chart = charts.cumulative(
        f"{target.name}：累计{target.metric.label}与目标",
        tuple(month for month, _, _ in rows),
        tuple(cumulative for _, _, cumulative in rows),
        target.amount,
        (target.period_start, target.period_end),
    )
    return TargetView(progress, region_label(target.region_prefixes), Markup(chart), rows)  # noqa: S704


async def targets(session: AsyncSession, as_of: date) -> list[TargetView]:
    listed, _ = await stats.list_targets(session, PageParams(limit=100, offset=0))
    return [await target_view(session, target.id, as_of) for target in listed]


BREAKDOWNS = ((GroupBy.city, "按城市"), (GroupBy.field, "按技术领域"), (GroupBy.type, "按合同类型"))


@dataclass
class Breakdown:
    title: str
    statistics: stats.Statistics
    chart: Markup


async def breakdowns(session: AsyncSession, since: date | None, until: date | None) -> list[Breakdown]:
    """The statistics endpoint's answer for each grouping (`stats.statistics` over the same totals),
    largest technology amount first."""
    found = []
    for group_by, title in BREAKDOWNS:
        groups = await totals(session, group_by, since=since, until=until)
        answer = stats.statistics(group_by, groups, since, until, None)
        answer.groups.sort(key=lambda g: (-g.technology_amount, g.key))
        chart = charts.bars(
            f"{title}：技术交易额",
            tuple(g.label for g in answer.groups),
            tuple(g.technology_amount for g in answer.groups),
        )
        found.append(Breakdown(title, answer, Markup(chart)))  # noqa: S704
    return found


@dataclass
class SearchFiltersView:
    q: str = ""
    field: TechnologyField | None = None
    region: str | None = None
    transfer_mode: TransferMode | None = None
    page: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        values = {
            "q": self.q,
            "field": self.field.value if self.field else None,
            "region": self.region,
            "transfer_mode": self.transfer_mode.value if self.transfer_mode else None,
            "page": self.page,
        } | changes
        return {key: str(value) for key, value in values.items() if value not in (None, "", 1)}


async def search(engine: Engine, kind: str, view: SearchFiltersView) -> Any:
    filters = SearchFilters(field=view.field, region=view.region, transfer_mode=view.transfer_mode)
    return await searching.search(
        engine,
        q=view.q,
        types=[kind],
        filters=filters,
        limit=PAGE_SIZE,
        offset=(view.page - 1) * PAGE_SIZE,
    )
