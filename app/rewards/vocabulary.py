"""The rewards' enumerations (DOMAIN.md: Rewards tied to deals), each with its Chinese label."""

from enum import StrEnum


class Beneficiary(StrEnum):
    """Who a reward rule pays: the deal's broker agency or technology manager, or a party."""

    agency = "agency"
    technology_manager = "technology_manager"
    buyer = "buyer"
    seller = "seller"

    @property
    def label(self) -> str:
        return {
            "agency": "服务机构",
            "technology_manager": "技术经理人",
            "buyer": "买方",
            "seller": "卖方",
        }[self.value]


class Exclusion(StrEnum):
    """Why a registered contract reached through a deal earns no reward under a rule."""

    second_contract_of_deal = "second_contract_of_deal"
    no_broker = "no_broker"
    no_party = "no_party"
    not_in_rule_region_or_period = "not_in_rule_region_or_period"
    related_party = "related_party"
    below_minimum = "below_minimum"

    @property
    def label(self) -> str:
        return {
            "second_contract_of_deal": "同一交易的第二份合同（一笔交易只奖励一次）",
            "no_broker": "交易无技术经理人/服务机构",
            "no_party": "交易未记录该方",
            "not_in_rule_region_or_period": "不在规则的地区或有效期内",
            "related_party": "关联交易",
            "below_minimum": "合同成交额低于规则下限",
        }[self.value]
