"""The listings' enumerations (DOMAIN.md, issue 3), each with the Chinese label users see."""

from app.core.vocabulary import Labelled


class ListingKind(Labelled):
    achievement = "achievement"
    demand = "demand"
    expert = "expert"
    agency = "agency"


class ListingStatus(Labelled):
    draft = "draft"
    published = "published"
    closed = "closed"
    taken_down = "taken_down"
    expired = "expired"


class IPKind(Labelled):
    """The kind of an intellectual-property right an achievement holds (one `IPRight` each).

    The contract registration form asks a coarser question, `IPCategory` (app/contracts/vocabulary.py,
    `ip_category` maps one to the other); a word means the same in both.
    """

    invention_patent = "invention_patent"
    utility_model = "utility_model"
    design_patent = "design_patent"
    software_copyright = "software_copyright"
    technical_secret = "technical_secret"  # noqa: S105 — 技术秘密, not a credential
    ic_layout = "ic_layout"
    plant_variety = "plant_variety"


class IPStatus(Labelled):
    applied = "applied"
    granted = "granted"
    lapsed = "lapsed"


class TransferMode(Labelled):
    transfer = "transfer"
    license_exclusive = "license_exclusive"
    license_sole = "license_sole"
    license_ordinary = "license_ordinary"
    equity = "equity"
    joint_development = "joint_development"
    pay_after_use = "pay_after_use"
    other = "other"


class CooperationMode(Labelled):
    commissioned_development = "commissioned_development"
    joint_development = "joint_development"
    transfer = "transfer"
    license = "license"
    consulting = "consulting"
    service = "service"
    open_challenge = "open_challenge"


class ExpertService(Labelled):
    evaluation = "evaluation"
    consulting = "consulting"
    tackling = "tackling"


class AgencyService(Labelled):
    technology_transfer = "technology_transfer"
    intellectual_property = "intellectual_property"
    asset_valuation = "asset_valuation"
    financing = "financing"
    legal = "legal"
    testing = "testing"
    pilot_scale = "pilot_scale"
    proof_of_concept = "proof_of_concept"


LABELS: dict[tuple[str, str], str] = {
    ("ListingKind", "achievement"): "科技成果",
    ("ListingKind", "demand"): "技术需求",
    ("ListingKind", "expert"): "专家",
    ("ListingKind", "agency"): "服务机构",
    ("ListingStatus", "draft"): "草稿",
    ("ListingStatus", "published"): "已发布",
    ("ListingStatus", "closed"): "已关闭",
    ("ListingStatus", "taken_down"): "已下架",
    ("ListingStatus", "expired"): "已过期",
    ("IPKind", "invention_patent"): "发明专利",
    ("IPKind", "utility_model"): "实用新型",
    ("IPKind", "design_patent"): "外观设计",
    ("IPKind", "software_copyright"): "软件著作权",
    ("IPKind", "technical_secret"): "技术秘密",
    ("IPKind", "ic_layout"): "集成电路布图设计",
    ("IPKind", "plant_variety"): "植物新品种",
    ("IPStatus", "applied"): "申请中",
    ("IPStatus", "granted"): "已授权",
    ("IPStatus", "lapsed"): "已失效",
    ("TransferMode", "transfer"): "转让",
    ("TransferMode", "license_exclusive"): "独占许可",
    ("TransferMode", "license_sole"): "排他许可",
    ("TransferMode", "license_ordinary"): "普通许可",
    ("TransferMode", "equity"): "作价投资",
    ("TransferMode", "joint_development"): "合作开发",
    ("TransferMode", "pay_after_use"): "先用后付",
    ("TransferMode", "other"): "其他",
    ("CooperationMode", "commissioned_development"): "委托开发",
    ("CooperationMode", "joint_development"): "合作开发",
    ("CooperationMode", "transfer"): "技术转让",
    ("CooperationMode", "license"): "技术许可",
    ("CooperationMode", "consulting"): "技术咨询",
    ("CooperationMode", "service"): "技术服务",
    ("CooperationMode", "open_challenge"): "揭榜挂帅",
    ("ExpertService", "evaluation"): "评价",
    ("ExpertService", "consulting"): "咨询",
    ("ExpertService", "tackling"): "攻关",
    ("AgencyService", "technology_transfer"): "技术转移",
    ("AgencyService", "intellectual_property"): "知识产权",
    ("AgencyService", "asset_valuation"): "资产评估",
    ("AgencyService", "financing"): "投融资",
    ("AgencyService", "legal"): "法律",
    ("AgencyService", "testing"): "检验检测",
    ("AgencyService", "pilot_scale"): "中试",
    ("AgencyService", "proof_of_concept"): "概念验证",
}


def maturity_stage(trl: int | None) -> str | None:
    """Technology readiness level 1–9 as the four stages users know (实验室/小试/中试/产业化)."""
    if trl is None:
        return None
    if trl <= 3:
        return "实验室"
    if trl <= 5:
        return "小试"
    if trl <= 7:
        return "中试"
    return "产业化"
