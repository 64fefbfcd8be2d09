"""The catalogue's columns explained once: in the downloadable template (`GET
/achievements/import-template`, a header row, an example row and a sheet describing each column)
and in the import endpoint's description. Allowed values are read from the vocabularies."""

import io
from enum import Enum

from openpyxl import Workbook

from app.core.vocabulary import TechnologyField
from app.listings import tabular
from app.listings.vocabulary import IPKind, IPStatus, TransferMode


def _labels(enum: type[Enum]) -> str:
    return "；".join(str(getattr(m, "label", m.value)) for m in enum)  # some labels hold a 、


# (needed, format and allowed values) of each column of AchievementCreate, in its order.
HELP: dict[str, tuple[str, str]] = {
    "title": ("必填", "成果名称，最多 200 字；本机构已有同名成果的行跳过并在报告中列出"),
    "description": ("发布时必填", "成果简介，最多 20000 字"),
    "field": ("发布时必填", f"取其一：{_labels(TechnologyField)}"),
    "keywords": ("", "以 ; ； 、 , ， 或换行分隔，最多 30 个，每个最多 50 字"),
    "maturity": ("", "技术成熟度 TRL 1–9 的数字：1–3 实验室，4–5 小试，6–7 中试，8–9 产业化"),
    "ip_rights": (
        "",
        "每项“类型 号码（状态）”，多项以 ； ; 或换行分隔，如 发明专利 ZL202010111222.3（已授权）；"
        "号码可带或不带 ZL、带或不带校验位前的点；单写中国专利号或申请号时按其类型位认定专利类型；"
        f"状态可省略（默认已授权），也可写“类型:号码:状态”。类型：{_labels(IPKind)}；状态：{_labels(IPStatus)}",
    ),
    "transfer_modes": ("", f"可多选，以 ; 、 , 分隔：{_labels(TransferMode)}"),
    "asking_price": (
        "",
        "元，最多两位小数；可带千分位（1,234,567.50）、¥ 或“元”，或以万为单位（80万、80万元）；"
        f"{'、'.join(tabular.NO_PRICE)}或留空为面议",
    ),
    "region_code": ("", "六位行政区划代码，如 320102"),
    "team": ("", "完成人姓名，以 ; 、 , 分隔，最多 50 人"),
    "application_scenarios": ("", "应用场景，最多 20000 字"),
    "publicly_funded": ("", "是 或 否（默认否）"),
    "funding_project": ("", "财政资金项目名称或编号，最多 200 字"),
    "contacts": (
        "",
        "每人“姓名，电话，邮箱”（电话、邮箱可省），多人以 ； 分隔，最多 5 人；"
        "只有一位联系人时也可用“联系人”“联系电话”“联系邮箱”三列",
    ),
    "valid_until": ("", "有效期至，日期 YYYY-MM-DD，此后自动过期"),
}

# The example row, written the way the export writes a stored achievement.
EXAMPLE = {
    "title": "谐波减速器柔轮精密加工工艺",
    "description": "柔轮一次装夹完成车、滚、磨，齿形误差小于 3 微米。",
    "field": TechnologyField.advanced_manufacturing,
    "keywords": ["谐波减速器", "柔轮", "精密加工"],
    "maturity": 7,
    "ip_rights": [
        {"kind": IPKind.invention_patent, "number": "ZL202010111222.3", "status": IPStatus.granted},
        {"kind": IPKind.utility_model, "number": "202120333444.5", "status": IPStatus.applied},
    ],
    "transfer_modes": [TransferMode.license_exclusive, TransferMode.equity],
    "asking_price": "800000.00",
    "region_code": "320102",
    "team": ["张三", "李四"],
    "application_scenarios": "工业机器人关节、精密转台",
    "publicly_funded": True,
    "funding_project": "国家重点研发计划 2021YFB0000000",
    "contacts": [{"name": "赵老师", "phone": "025-12345678", "email": "zhao@example.edu.cn"}],
    "valid_until": "2030-12-31",
}


def write_template() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "科技成果目录"
    sheet.append([tabular.COLUMN_NAMES[name] for name in HELP])
    sheet.append([tabular.cell(tabular.export_value(name, EXAMPLE[name])) for name in HELP])
    guide = workbook.create_sheet("填写说明")
    guide.append(["列名", "字段名", "是否必填", "格式与取值"])
    for name, (needed, text) in HELP.items():
        guide.append([tabular.COLUMN_NAMES[name], name, needed, text])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def columns_markdown() -> str:
    """The columns as a Markdown table, for the import endpoint's description."""
    rows = [
        f"| {tabular.COLUMN_NAMES[name]} | `{name}` | {needed} | {text} |"
        for name, (needed, text) in HELP.items()
    ]
    return "\n".join(["| 列名 | field | 必填 | 格式与取值 |", "| --- | --- | --- | --- |", *rows])
