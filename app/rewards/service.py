"""Reward rules (administrators' table) and the rewards report computed from registrations."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit
from app.core.errors import FieldError, NotFound, ValidationFailed
from app.core.pagination import PageParams
from app.core.types import CENT
from app.rewards import repository
from app.rewards.models import RewardRule
from app.rewards.repository import Attributed
from app.rewards.schemas import (
    REQUIRED_FIELDS,
    BeneficiaryRewards,
    CountedContract,
    ExcludedContract,
    RewardContract,
    RewardReport,
    RuleCreate,
    RuleRead,
    RuleRewards,
    RuleUpdate,
)
from app.rewards.vocabulary import Beneficiary, Exclusion

RULE_NOT_FOUND = NotFound(
    code="reward_rule_not_found", message_en="No such reward rule.", message_zh="奖励规则不存在。"
)
AUDITED = (
    "name",
    "region_code",
    "valid_from",
    "valid_until",
    "beneficiary",
    "rate",
    "annual_cap",
    "minimum_contract_amount",
    "exclude_related_party",
    "source",
)


def _state(rule: RewardRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in AUDITED}


async def _check(session: AsyncSession, values: dict[str, Any], excluding: uuid.UUID | None) -> None:
    """The period is ordered, and no other rule for the same beneficiary overlaps in region and
    period. Called with the rules lock held, so the answer stays true until the commit."""
    if values["valid_until"] is not None and values["valid_until"] < values["valid_from"]:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "valid_until",
                    "period_order",
                    "valid_until is before valid_from.",
                    "有效期止早于有效期起。",
                )
            ]
        )
    other = await repository.find_overlapping(
        session,
        beneficiary=values["beneficiary"],
        region_code=values["region_code"],
        valid_from=values["valid_from"],
        valid_until=values["valid_until"],
        excluding=excluding,
    )
    if other is not None:
        raise ValidationFailed(
            code="reward_rule_overlap",
            message_en=f"The rule overlaps “{other.name}” ({other.id}): same beneficiary, region and period.",
            message_zh=f"与规则“{other.name}”（{other.id}）的受益方相同，地区和有效期重叠。",
            errors=[
                FieldError(
                    name,
                    "reward_rule_overlap",
                    "Overlaps another rule for the same beneficiary.",
                    "与同一受益方的另一规则重叠。",
                )
                for name in ("region_code", "valid_from", "valid_until")
            ],
            extra={"overlapping_rule": {"id": str(other.id), "name": other.name}},
        )


async def create_rule(session: AsyncSession, *, admin: User, data: RuleCreate) -> RewardRule:
    values = data.model_dump()
    await repository.lock_rules(session)
    await _check(session, values, excluding=None)
    rule = RewardRule(id=uuid.uuid4(), created_by_id=admin.id, updated_by_id=admin.id, **values)
    session.add(rule)
    await session.flush()
    await audit.record(
        session, actor=admin, object_type="reward_rule", object_id=rule.id, action="create", changes=values
    )
    await session.refresh(rule)
    return rule


async def update_rule(
    session: AsyncSession, *, admin: User, rule_id: uuid.UUID, data: RuleUpdate
) -> RewardRule:
    await repository.lock_rules(session)
    rule = await repository.get_rule(session, rule_id, for_update=True)
    if rule is None:
        raise RULE_NOT_FOUND
    sent = data.model_dump(exclude_unset=True)
    if nulled := [name for name in REQUIRED_FIELDS if name in sent and sent[name] is None]:
        raise ValidationFailed(
            errors=[FieldError(name, "required", "May not be null.", "不可为空。") for name in nulled]
        )
    before = _state(rule)
    after = {**before, **sent}
    await _check(session, after, excluding=rule.id)
    changes = audit.diff(before, after)
    if not changes:
        return rule
    for name, value in sent.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_by_id = admin.id
    await session.flush()
    await audit.record(
        session, actor=admin, object_type="reward_rule", object_id=rule.id, action="update", changes=changes
    )
    await session.refresh(rule)
    return rule


async def delete_rule(session: AsyncSession, *, admin: User, rule_id: uuid.UUID) -> None:
    await repository.lock_rules(session)
    rule = await repository.get_rule(session, rule_id, for_update=True)
    if rule is None:
        raise RULE_NOT_FOUND
    before = _state(rule)
    await repository.delete_rule(session, rule_id)
    await audit.record(
        session, actor=admin, object_type="reward_rule", object_id=rule_id, action="delete", changes=before
    )


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> RewardRule:
    rule = await repository.get_rule(session, rule_id)
    if rule is None:
        raise RULE_NOT_FOUND
    return rule


async def list_rules(session: AsyncSession, page: PageParams) -> tuple[list[RewardRule], int]:
    return await repository.list_rules(session, page)


# --- the report -------------------------------------------------------------------------------


def reward_of(rate: Decimal, technology_amount: Decimal) -> Decimal:
    """One contract's reward: exact product, rounded to the fen half up (0.005 → 0.01)."""
    return (rate * technology_amount).quantize(CENT, rounding=ROUND_HALF_UP)


def _beneficiary_of(rule: RewardRule, contract: Attributed) -> uuid.UUID | None:
    return {
        Beneficiary.agency: contract.broker_agency_id,
        Beneficiary.technology_manager: contract.broker_user_id,
        Beneficiary.buyer: contract.buyer_organization_id,
        Beneficiary.seller: contract.seller_organization_id,
    }[rule.beneficiary]


def _in_region(rule: RewardRule, contract: Attributed) -> bool:
    return contract.stats_region_code.startswith(rule.region_code)


def _in_period(rule: RewardRule, contract: Attributed) -> bool:
    return rule.valid_from <= contract.registered_on and (
        rule.valid_until is None or contract.registered_on <= rule.valid_until
    )


def exclusion(rule: RewardRule, contract: Attributed) -> Exclusion | None:
    """Why `contract` earns its beneficiary nothing under `rule` (the first reason that applies)."""
    if not contract.first_of_deal:
        return Exclusion.second_contract_of_deal
    if _beneficiary_of(rule, contract) is None:
        broker = rule.beneficiary in (Beneficiary.agency, Beneficiary.technology_manager)
        return Exclusion.no_broker if broker else Exclusion.no_party
    if not (_in_region(rule, contract) and _in_period(rule, contract)):
        return Exclusion.not_in_rule_region_or_period
    if rule.exclude_related_party and contract.related_party:
        return Exclusion.related_party
    if rule.minimum_contract_amount is not None and contract.contract_amount < rule.minimum_contract_amount:
        return Exclusion.below_minimum
    return None


def _contract(c: Attributed) -> dict[str, Any]:
    return {name: getattr(c, name) for name in RewardContract.model_fields}


@dataclass
class _Tally:
    counted: list[CountedContract] = field(default_factory=list)
    excluded: list[ExcludedContract] = field(default_factory=list)


def _excluded(contract: Attributed, reason: Exclusion) -> ExcludedContract:
    return ExcludedContract(**_contract(contract), reason=reason, reason_label=reason.label)


def rule_rewards(
    rule: RewardRule, contracts: Iterable[Attributed], names: dict[uuid.UUID, str], visible: "Visibility"
) -> RuleRewards:
    """The rule's rewards in a year: per beneficiary that has a contract in the rule's region that
    year, every one of its contracts counted or excluded with why; capped per beneficiary."""
    tallies: dict[uuid.UUID, _Tally] = {}
    unattributed: list[ExcludedContract] = []
    contracts = list(contracts)
    # A beneficiary belongs to the rule's report when one of its contracts lies in the rule's region.
    members = {
        beneficiary
        for c in contracts
        if (beneficiary := _beneficiary_of(rule, c)) is not None and _in_region(rule, c)
    }
    for contract in contracts:
        beneficiary = _beneficiary_of(rule, contract)
        reason = exclusion(rule, contract)
        if beneficiary is None:
            if _in_region(rule, contract) and visible.unattributed:
                unattributed.append(_excluded(contract, reason or Exclusion.no_party))
            continue
        if beneficiary not in members or not visible.sees(rule.beneficiary, beneficiary):
            continue
        tally = tallies.setdefault(beneficiary, _Tally())
        if reason is None:
            tally.counted.append(
                CountedContract(
                    **_contract(contract), reward_amount=reward_of(rule.rate, contract.technology_amount)
                )
            )
        else:
            tally.excluded.append(_excluded(contract, reason))
    beneficiaries = []
    for beneficiary, tally in tallies.items():
        before = sum((c.reward_amount for c in tally.counted), Decimal("0.00"))
        after = before if rule.annual_cap is None else min(before, rule.annual_cap)
        beneficiaries.append(
            BeneficiaryRewards(
                beneficiary=rule.beneficiary,
                beneficiary_id=beneficiary,
                beneficiary_name=names.get(beneficiary, ""),
                counted=tally.counted,
                excluded=tally.excluded,
                amount_before_cap=before,
                annual_cap=rule.annual_cap,
                amount_after_cap=after,
            )
        )
    beneficiaries.sort(key=lambda b: (-b.amount_after_cap, b.beneficiary_name, b.beneficiary_id))
    return RuleRewards(
        rule=RuleRead.model_validate(rule),
        beneficiaries=beneficiaries,
        unattributed=unattributed,
        amount_after_cap=sum((b.amount_after_cap for b in beneficiaries), Decimal("0.00")),
    )


@dataclass(frozen=True)
class Visibility:
    """Administrators see every row (a government organization's users are administrators: the
    account rules admit no other role there); anyone else only the rows paying their own
    organization (as agency, buyer or seller) or themselves (as technology manager)."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    everything: bool

    @classmethod
    def of(cls, user: User) -> "Visibility":
        return cls(user.id, user.organization_id, everything=user.role == Role.admin)

    @property
    def unattributed(self) -> bool:
        return self.everything

    def sees(self, kind: Beneficiary, beneficiary: uuid.UUID) -> bool:
        if self.everything:
            return True
        own = self.user_id if kind == Beneficiary.technology_manager else self.organization_id
        return beneficiary == own


async def report(session: AsyncSession, *, user: User, year: int, region: str | None) -> RewardReport:
    rules = await repository.rules_in_year(session, year, region)
    contracts = await repository.attributed_in_year(session, year) if rules else []
    organizations = {
        i
        for c in contracts
        for i in (c.broker_agency_id, c.buyer_organization_id, c.seller_organization_id)
        if i is not None
    }
    users = {c.broker_user_id for c in contracts if c.broker_user_id is not None}
    names = await repository.names(session, organizations, users)
    visible = Visibility.of(user)
    return RewardReport(
        year=year, region=region, rules=[rule_rewards(rule, contracts, names, visible) for rule in rules]
    )
