"""Vocabularies shared by several domains (DOMAIN.md), with the Chinese labels users see."""

import sys
from enum import StrEnum


class Labelled(StrEnum):
    """An enumeration whose members carry the Chinese label users see. The defining module keeps
    the labels in `LABELS`, keyed by class name too: TransferMode.transfer and
    CooperationMode.transfer are equal strings with different labels."""

    @property
    def label(self) -> str:
        labels: dict[tuple[str, str], str] = sys.modules[type(self).__module__].LABELS
        return labels[(type(self).__name__, self.value)]

    @classmethod
    def describe(cls, title: str) -> str:
        """An OpenAPI description listing every value with its Chinese label."""
        return f"{title}：" + "、".join(f"{m.value}={m.label}" for m in cls)


class TechnologyField(StrEnum):
    """技术领域 of the national technology-market statistics."""

    electronic_information = "electronic_information"
    advanced_manufacturing = "advanced_manufacturing"
    aerospace = "aerospace"
    modern_transportation = "modern_transportation"
    agriculture = "agriculture"
    new_materials = "new_materials"
    new_energy = "new_energy"
    environment = "environment"
    biomedicine = "biomedicine"
    nuclear = "nuclear"
    urban_social = "urban_social"

    @property
    def label(self) -> str:
        return _FIELD_LABELS[self]


_FIELD_LABELS = {
    TechnologyField.electronic_information: "电子信息",
    TechnologyField.advanced_manufacturing: "先进制造",
    TechnologyField.aerospace: "航空航天",
    TechnologyField.modern_transportation: "现代交通",
    TechnologyField.agriculture: "农业",
    TechnologyField.new_materials: "新材料及其应用",
    TechnologyField.new_energy: "新能源与高效节能",
    TechnologyField.environment: "环境保护与资源综合利用",
    TechnologyField.biomedicine: "生物、医药和医疗器械",
    TechnologyField.nuclear: "核应用技术",
    TechnologyField.urban_social: "城市建设与社会发展",
}

FIELD_DESCRIPTION = "技术领域：" + "、".join(f"{f.value}={f.label}" for f in TechnologyField)
