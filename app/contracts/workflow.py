"""The registration workflow as data: states, actions and the one transition table.

Pure: no database, no I/OF, so it is unit- and property-tested on its own. The service looks up a
transition here, then locks the row, applies it, audits it and writes its history in one transaction.
"""

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    draft = "draft"
    submitted = "submitted"
    accepted = "accepted"
    correction_requested = "correction_requested"
    resubmitted = "resubmitted"
    under_review = "under_review"
    expert_review = "expert_review"
    registered = "registered"
    # A registration in force whose change (变更登记) to a large amount is under expert review: it
    # keeps counting at its registered amounts until the change takes effect.
    amendment_review = "amendment_review"
    refused = "refused"
    objected = "objected"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.draft: "草稿",
    Status.submitted: "已提交",
    Status.accepted: "已受理",
    Status.correction_requested: "待补正",
    Status.resubmitted: "已补正",
    Status.under_review: "审查中",
    Status.expert_review: "专家评审中",
    Status.registered: "准予登记",
    Status.amendment_review: "变更专家评审中",
    Status.refused: "不予登记",
    Status.objected: "异议复核中",
    Status.cancelled: "已注销",
}
STATUS_DESCRIPTION = "状态：" + "、".join(f"{s.value}={s.label}" for s in Status)


class Action(StrEnum):
    submit = "submit"
    accept = "accept"
    request_correction = "request_correction"
    resubmit = "resubmit"
    start_review = "start_review"
    refer_to_experts = "refer_to_experts"
    add_expert_opinion = "add_expert_opinion"
    register = "register"
    refuse = "refuse"
    amend = "amend"
    refer_amendment = "refer_amendment"
    reject_amendment = "reject_amendment"
    cancel = "cancel"
    object = "object"
    reopen = "reopen"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.submit: "提交",
    Action.accept: "受理",
    Action.request_correction: "要求补正",
    Action.resubmit: "补正后重新提交",
    Action.start_review: "开始审查",
    Action.refer_to_experts: "提交专家评审",
    Action.add_expert_opinion: "记录专家意见",
    Action.register: "准予登记",
    Action.refuse: "不予登记",
    Action.amend: "变更登记",
    Action.refer_amendment: "变更提交专家评审",
    Action.reject_amendment: "不予变更登记",
    Action.cancel: "注销登记",
    Action.object: "提出异议",
    Action.reopen: "异议受理，重新审查",
}


class Actor(StrEnum):
    """The capacity in which a user acts on one application (computed per application)."""

    applicant = "applicant"  # a user of the applicant organisation
    officer = "officer"  # a registration officer of the office the application is routed to
    admin = "admin"  # an administrator (科技厅 / the exchange), standing in for tax and finance authorities
    system = "system"  # the service itself, e.g. the automatic referral to experts


@dataclass(frozen=True)
class Transition:
    source: Status
    action: Action
    target: Status
    actors: frozenset[Actor]


def _t(source: Status, action: Action, target: Status, *actors: Actor) -> Transition:
    return Transition(source, action, target, frozenset(actors))


A, OF, AD, SYS = Actor.applicant, Actor.officer, Actor.admin, Actor.system
S = Status

# The whole procedure of 《技术合同认定登记管理办法》 in one table (DOMAIN.md "Registration procedure").
TRANSITIONS: tuple[Transition, ...] = (
    _t(S.draft, Action.submit, S.submitted, A),
    _t(S.submitted, Action.accept, S.accepted, OF),
    _t(S.submitted, Action.request_correction, S.correction_requested, OF),
    _t(S.accepted, Action.request_correction, S.correction_requested, OF),
    _t(S.under_review, Action.request_correction, S.correction_requested, OF),
    _t(S.resubmitted, Action.request_correction, S.correction_requested, OF),
    # Experts asking for material is normal practice; resubmission goes back through review.
    _t(S.expert_review, Action.request_correction, S.correction_requested, OF),
    _t(S.correction_requested, Action.resubmit, S.resubmitted, A),
    _t(S.accepted, Action.start_review, S.under_review, OF),
    _t(S.resubmitted, Action.start_review, S.under_review, OF),
    # Automatic for large contracts (the service applies it as `system` right after start_review);
    # an officer refers a disputed one by hand.
    _t(S.under_review, Action.refer_to_experts, S.expert_review, OF, SYS),
    _t(S.expert_review, Action.add_expert_opinion, S.expert_review, OF),
    _t(S.under_review, Action.register, S.registered, OF),
    _t(S.expert_review, Action.register, S.registered, OF),
    _t(S.under_review, Action.refuse, S.refused, OF),
    _t(S.expert_review, Action.refuse, S.refused, OF),
    _t(S.registered, Action.amend, S.registered, OF),
    # A change to a technology amount at or above the large-contract threshold: the service refers
    # the officer's `amend` to experts (30 working days); it takes effect by `amend` after an opinion.
    _t(S.registered, Action.refer_amendment, S.amendment_review, SYS),
    _t(S.amendment_review, Action.add_expert_opinion, S.amendment_review, OF),
    _t(S.amendment_review, Action.amend, S.registered, OF),
    _t(S.amendment_review, Action.reject_amendment, S.registered, OF),
    _t(S.registered, Action.cancel, S.cancelled, OF),
    # 异议: to a refusal, or to the certified amount of a registration; re-examined by the office.
    _t(S.refused, Action.object, S.objected, A, AD),
    _t(S.registered, Action.object, S.objected, A, AD),
    _t(S.objected, Action.reopen, S.under_review, OF),
)

_BY_KEY: dict[tuple[Status, Action], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
assert len(_BY_KEY) == len(TRANSITIONS), "one transition per (state, action)"

OPEN_STATES = frozenset(
    {S.accepted, S.resubmitted, S.under_review, S.expert_review, S.objected, S.amendment_review}
)
# A registration in force: counted in the statistics at its registered amounts, listed in the
# publicity, its certificate valid — a pending change does not suspend it (DOMAIN.md).
IN_FORCE_STATES = frozenset({S.registered, S.amendment_review})
IN_FORCE_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in Status if s in IN_FORCE_STATES) + ")"
FINAL_STATES = frozenset({S.cancelled})


def find(source: Status, action: Action) -> Transition | None:
    return _BY_KEY.get((source, action))


def allowed_actions(source: Status, actors: frozenset[Actor] | set[Actor]) -> list[Action]:
    """Actions these actors may take from `source`, in table order (what a 409 lists)."""
    return [t.action for t in TRANSITIONS if t.source == source and t.actors & set(actors)]


class TransitionRefused(Exception):
    """`action` is not possible from `source` for these actors; `allowed` says what is."""

    def __init__(self, source: Status, action: Action, allowed: list[Action], *, exists: bool) -> None:
        super().__init__(f"{action} not allowed from {source}")
        self.source = source
        self.action = action
        self.allowed = allowed
        self.exists = exists  # the transition exists but the actor may not take it


def resolve(source: Status, action: Action, actors: frozenset[Actor] | set[Actor]) -> Transition:
    transition = find(source, action)
    if transition is None or not (transition.actors & set(actors)):
        raise TransitionRefused(
            source, action, allowed_actions(source, actors), exists=transition is not None
        )
    return transition
