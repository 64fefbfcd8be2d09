"""The rewards report as an XLSX: a summary sheet (one row per rule and beneficiary) and a detail
sheet (one row per contract counted or excluded), with the same figures as the JSON report. Every
cell is text, written as the listings' exports write it (a leading formula character neutralised)."""

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.core.types import in_yuan
from app.listings.tabular import cell
from app.rewards.schemas import ExcludedContract, RewardContract, RewardReport, RuleRewards
from app.rewards.vocabulary import Beneficiary

SUMMARY_HEADERS = (
    "规则",
    "规则编号",
    "地区",
    "受益方类型",
    "受益方编号",
    "受益方",
    "计入合同数",
    "不计合同数",
    "奖励比例",
    "封顶前金额（元）",
    "年度上限（元）",
    "封顶后金额（元）",
)
DETAIL_HEADERS = (
    "规则",
    "规则编号",
    "受益方类型",
    "受益方编号",
    "受益方",
    "登记编号",
    "交易编号",
    "登记日期",
    "地区",
    "合同成交额（元）",
    "技术交易额（元）",
    "是否计入",
    "奖励金额（元）",
    "不计原因",
    "不计原因代码",
)
COUNTED, EXCLUDED = "计入", "不计"


def _contract_cells(contract: RewardContract) -> list[Any]:
    return [
        contract.registration_number,
        contract.deal_id,
        contract.registered_on,
        contract.stats_region_code,
        in_yuan(contract.contract_amount),
        in_yuan(contract.technology_amount),
    ]


def _excluded_row(prefix: list[Any], contract: ExcludedContract) -> list[Any]:
    return [*prefix, *_contract_cells(contract), EXCLUDED, "", contract.reason_label, contract.reason.value]


def _rows(section: RuleRewards) -> tuple[list[list[Any]], list[list[Any]]]:
    rule = section.rule
    label = Beneficiary(rule.beneficiary).label
    summary, detail = [], []
    for b in section.beneficiaries:
        summary.append(
            [
                rule.name,
                rule.id,
                rule.region_code,
                label,
                b.beneficiary_id,
                b.beneficiary_name,
                len(b.counted),
                len(b.excluded),
                format(rule.rate.normalize(), "f"),
                in_yuan(b.amount_before_cap),
                in_yuan(b.annual_cap) if b.annual_cap is not None else "",
                in_yuan(b.amount_after_cap),
            ]
        )
        prefix = [rule.name, rule.id, label, b.beneficiary_id, b.beneficiary_name]
        for c in b.counted:
            detail.append([*prefix, *_contract_cells(c), COUNTED, in_yuan(c.reward_amount), "", ""])
        detail.extend(_excluded_row(prefix, c) for c in b.excluded)
    detail.extend(_excluded_row([rule.name, rule.id, label, "", ""], c) for c in section.unattributed)
    return summary, detail


def write_report(report: RewardReport) -> bytes:
    workbook = Workbook(write_only=True)
    summary_rows: list[list[Any]] = []
    detail_rows: list[list[Any]] = []
    for section in report.rules:
        summary, detail = _rows(section)
        summary_rows.extend(summary)
        detail_rows.extend(detail)
    for title, headers, rows in (
        ("汇总", SUMMARY_HEADERS, summary_rows),
        ("明细", DETAIL_HEADERS, detail_rows),
    ):
        sheet = workbook.create_sheet(title)
        _append(sheet, headers)
        for row in rows:
            _append(sheet, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _append(sheet: Any, values: Sequence[Any]) -> None:
    cells = []
    for value in values:
        # openpyxl makes any string starting with "=" a formula; a cell typed as a string never is.
        written = WriteOnlyCell(sheet, value=cell(value))
        written.data_type = "s"
        cells.append(written)
    sheet.append(cells)
