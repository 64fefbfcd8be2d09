"""Vocabularies of the technology-contract registration form (技术合同登记表), with Chinese labels."""

from enum import StrEnum

from app.listings.vocabulary import IPKind


class ContractType(StrEnum):
    development = "development"
    transfer = "transfer"
    licensing = "licensing"
    consulting = "consulting"
    service = "service"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    ContractType.development: "技术开发",
    ContractType.transfer: "技术转让",
    ContractType.licensing: "技术许可",
    ContractType.consulting: "技术咨询",
    ContractType.service: "技术服务",
}


class ContractSubtype(StrEnum):
    commissioned = "commissioned"
    cooperative = "cooperative"
    patent_right = "patent_right"
    patent_application_right = "patent_application_right"
    technical_secret = "technical_secret"  # noqa: S105 (a vocabulary word, not a secret)
    other_right = "other_right"
    exclusive = "exclusive"
    sole = "sole"
    ordinary = "ordinary"
    general = "general"
    training = "training"
    brokerage = "brokerage"

    @property
    def label(self) -> str:
        return _SUBTYPE_LABELS[self]


_SUBTYPE_LABELS = {
    ContractSubtype.commissioned: "委托开发",
    ContractSubtype.cooperative: "合作开发",
    ContractSubtype.patent_right: "专利权转让",
    ContractSubtype.patent_application_right: "专利申请权转让",
    ContractSubtype.technical_secret: "技术秘密转让",
    ContractSubtype.other_right: "其他权利转让",
    ContractSubtype.exclusive: "独占许可",
    ContractSubtype.sole: "排他许可",
    ContractSubtype.ordinary: "普通许可",
    ContractSubtype.general: "一般",
    ContractSubtype.training: "技术培训",
    ContractSubtype.brokerage: "技术中介",
}

SUBTYPES: dict[ContractType, frozenset[ContractSubtype]] = {
    ContractType.development: frozenset({ContractSubtype.commissioned, ContractSubtype.cooperative}),
    ContractType.transfer: frozenset(
        {
            ContractSubtype.patent_right,
            ContractSubtype.patent_application_right,
            ContractSubtype.technical_secret,
            ContractSubtype.other_right,
        }
    ),
    ContractType.licensing: frozenset(
        {ContractSubtype.exclusive, ContractSubtype.sole, ContractSubtype.ordinary}
    ),
    ContractType.consulting: frozenset({ContractSubtype.general}),
    ContractType.service: frozenset(
        {ContractSubtype.general, ContractSubtype.training, ContractSubtype.brokerage}
    ),
}


class PartyKind(StrEnum):
    enterprise = "enterprise"
    university = "university"
    research_institute = "research_institute"
    other = "other"

    @property
    def label(self) -> str:
        return {
            "enterprise": "企业",
            "university": "高等院校",
            "research_institute": "科研机构",
            "other": "其他",
        }[self]


class IPCategory(StrEnum):
    """知识产权类别 of the registration form (技术合同登记表): what the contract concerns.

    Not the rights an achievement holds (`IPKind` of the listings): `patent` covers invention
    patents, utility models and designs alike; `ip_category` maps a right's kind to its category.
    """

    patent = "patent"
    technical_secret = "technical_secret"  # noqa: S105 (a vocabulary word, not a secret)
    software_copyright = "software_copyright"
    ic_layout = "ic_layout"
    plant_variety = "plant_variety"
    biomedicine_variety = "biomedicine_variety"
    none = "none"

    @property
    def label(self) -> str:
        return _IP_LABELS[self]


_IP_LABELS = {
    IPCategory.patent: "专利",
    IPCategory.technical_secret: "技术秘密",
    IPCategory.software_copyright: "计算机软件著作权",
    IPCategory.ic_layout: "集成电路布图设计",
    IPCategory.plant_variety: "植物新品种",
    IPCategory.biomedicine_variety: "生物医药新品种",
    IPCategory.none: "未涉及知识产权",
}


_CATEGORY_OF_KIND = {
    IPKind.invention_patent: IPCategory.patent,
    IPKind.utility_model: IPCategory.patent,
    IPKind.design_patent: IPCategory.patent,
    IPKind.software_copyright: IPCategory.software_copyright,
    IPKind.technical_secret: IPCategory.technical_secret,
    IPKind.ic_layout: IPCategory.ic_layout,
    IPKind.plant_variety: IPCategory.plant_variety,
}


def ip_category(kind: IPKind | None) -> IPCategory:
    """The registration form's category of a listed right (`none` for a contract on no right)."""
    return IPCategory.none if kind is None else _CATEGORY_OF_KIND[kind]


def describe(enum_class: type[StrEnum], title: str) -> str:
    return f"{title}：" + "、".join(f"{m.value}={m.label}" for m in enum_class)  # type: ignore[attr-defined]
