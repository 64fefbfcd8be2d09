"""What a deal's words become on the registration form, and what an application's status makes of
the deal. Pure, so the tables are tested without a database (docs/deals.md)."""

from typing import Any

from app.accounts.models import OrganizationKind
from app.contracts.vocabulary import ContractSubtype, ContractType, IPCategory, PartyKind, ip_category
from app.contracts.workflow import Status
from app.deals.vocabulary import DealStage
from app.listings.vocabulary import IPKind, IPStatus, TransferMode

T, S = ContractType, ContractSubtype

# 许可 → licence of the same scope; 合作开发 → cooperative development. 先使用后付费 is a patent
# licence whose royalty is deferred until the licensee uses it (Jiangsu's 先用后转 licenses are
# ordinary ones); 作价投资 (equity) and "other" can be a transfer, a licence or neither: the party
# names the type in the request. `transfer` depends on the right transferred (transfer_subtype).
CONTRACT_OF_MODE: dict[TransferMode, tuple[ContractType, ContractSubtype] | None] = {
    TransferMode.license_exclusive: (T.licensing, S.exclusive),
    TransferMode.license_sole: (T.licensing, S.sole),
    TransferMode.license_ordinary: (T.licensing, S.ordinary),
    TransferMode.joint_development: (T.development, S.cooperative),
    TransferMode.pay_after_use: (T.licensing, S.ordinary),
    TransferMode.equity: None,
    TransferMode.other: None,
}

PATENTS = frozenset({IPKind.invention_patent, IPKind.utility_model, IPKind.design_patent})


def main_right(ip_rights: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The right a deal on the achievement concerns: the first one its owner listed."""
    return ip_rights[0] if ip_rights else None


def transfer_subtype(right: dict[str, Any] | None) -> ContractSubtype | None:
    """专利权转让 for a granted patent, 专利申请权转让 for a pending one, 技术秘密转让 for know-how
    (also when no right is listed), 其他权利转让 for software, layouts and varieties; None (the
    party says) for a lapsed patent, which is no longer a right to transfer."""
    if right is None:
        return S.technical_secret
    kind = IPKind(right["kind"])
    if kind in PATENTS:
        status = IPStatus(right.get("status", IPStatus.granted))
        return {IPStatus.granted: S.patent_right, IPStatus.applied: S.patent_application_right}.get(status)
    if kind is IPKind.technical_secret:
        return S.technical_secret
    return S.other_right


def contract_kind(
    transfer_mode: str | None, ip_rights: list[dict[str, Any]]
) -> tuple[ContractType, ContractSubtype] | None:
    """The contract type and subtype a deal's transfer mode makes, or None when it cannot say."""
    try:
        mode = TransferMode(transfer_mode)
    except ValueError:  # none recorded (or a word of no vocabulary)
        return None
    if mode is TransferMode.transfer:
        subtype = transfer_subtype(main_right(ip_rights))
        return None if subtype is None else (T.transfer, subtype)
    return CONTRACT_OF_MODE[mode]


def ip_kind(ip_rights: list[dict[str, Any]]) -> IPCategory:
    right = main_right(ip_rights)
    return ip_category(None if right is None else IPKind(right["kind"]))


PARTY_OF_ORGANIZATION = {
    OrganizationKind.university: PartyKind.university,
    OrganizationKind.research_institute: PartyKind.research_institute,
    OrganizationKind.enterprise: PartyKind.enterprise,
}


def party_kind(kind: OrganizationKind) -> PartyKind:
    """Agencies, offices and government bodies are 其他 on the form."""
    return PARTY_OF_ORGANIZATION.get(kind, PartyKind.other)


# The deal's stage each application status means. A draft is still the seller's: the deal stays
# signed. Everything in the office's hands — an objection's re-examination included, whether of a
# refusal or of a registration (suspended meanwhile) — is registration_submitted. A registration in
# force (a change of amounts under expert review keeps it in force) is registered. Refused and
# cancelled applications no longer hold the contract: the deal is signed again, to hand off anew.
STAGE_OF_STATUS: dict[Status, DealStage] = {
    Status.draft: DealStage.signed,
    Status.submitted: DealStage.registration_submitted,
    Status.accepted: DealStage.registration_submitted,
    Status.correction_requested: DealStage.registration_submitted,
    Status.resubmitted: DealStage.registration_submitted,
    Status.under_review: DealStage.registration_submitted,
    Status.expert_review: DealStage.registration_submitted,
    Status.objected: DealStage.registration_submitted,
    Status.registered: DealStage.registered,
    Status.amendment_review: DealStage.registered,
    Status.refused: DealStage.signed,
    Status.cancelled: DealStage.signed,
}
assert STAGE_OF_STATUS.keys() == set(Status), "every status moves the deal somewhere"

# An application in these statuses no longer holds the deal: it may be handed off again.
RELEASED = frozenset({Status.refused, Status.cancelled})
