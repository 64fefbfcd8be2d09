"""The deals' enumerations (DOMAIN.md: Deals and how a trade is made), each with its Chinese label."""

from app.core.vocabulary import Labelled


class DealStage(Labelled):
    lead = "lead"
    mandated = "mandated"
    diligence = "diligence"
    negotiating = "negotiating"
    agreed = "agreed"
    signed = "signed"
    registration_submitted = "registration_submitted"
    registered = "registered"
    on_hold = "on_hold"
    lost = "lost"


# Where a deal ends; every other stage is open.
CLOSED_STAGES = frozenset({DealStage.registered, DealStage.lost})


class InterestStatus(Labelled):
    open = "open"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"


class DeclineReason(Labelled):
    too_early = "too_early"
    benefit_unclear = "benefit_unclear"
    no_route_to_market = "no_route_to_market"
    not_a_fit = "not_a_fit"
    price = "price"
    timing = "timing"
    description_unclear = "description_unclear"
    other = "other"


LABELS: dict[tuple[str, str], str] = {
    ("DealStage", "lead"): "意向",
    ("DealStage", "mandated"): "已委托",
    ("DealStage", "diligence"): "尽职调查",
    ("DealStage", "negotiating"): "洽谈定价",
    ("DealStage", "agreed"): "已成交",
    ("DealStage", "signed"): "已签订合同",
    ("DealStage", "registration_submitted"): "已申请认定登记",
    ("DealStage", "registered"): "已认定登记",
    ("DealStage", "on_hold"): "暂停",
    ("DealStage", "lost"): "已终止",
    ("InterestStatus", "open"): "待答复",
    ("InterestStatus", "accepted"): "已接受",
    ("InterestStatus", "declined"): "已婉拒",
    ("InterestStatus", "withdrawn"): "已撤回",
    ("DeclineReason", "too_early"): "为时尚早",
    ("DeclineReason", "benefit_unclear"): "收益不明确",
    ("DeclineReason", "no_route_to_market"): "缺乏市场化路径",
    ("DeclineReason", "not_a_fit"): "不匹配",
    ("DeclineReason", "price"): "价格",
    ("DeclineReason", "timing"): "时机",
    ("DeclineReason", "description_unclear"): "描述不清",
    ("DeclineReason", "other"): "其他",
}
