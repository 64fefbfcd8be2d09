"""The listing lifecycle as data: which action moves which status where, and who may take it.

    draft ──publish──▶ published ──close──────▶ closed
                           │ ──take_down (admin)─▶ taken_down
                           │ ──expire (system)──▶ expired
    closed / taken_down / expired ──revise (an edit by the owner)──▶ draft ──publish──▶ …

Editing a published listing keeps it published; editing one that was closed, taken down or
expired returns it to draft, so a taken-down listing is only published again after a change.
"""

from enum import StrEnum

from app.core.errors import InvalidTransition, NotPermitted
from app.listings.vocabulary import ListingStatus


class Party(StrEnum):
    """Who acts on a listing, relative to it."""

    owner = "owner"  # a member of the owning organization (for experts: the expert's own account)
    admin = "admin"  # an exchange administrator
    system = "system"  # the expiry job


class Action(StrEnum):
    publish = "publish"
    close = "close"
    take_down = "take_down"
    expire = "expire"
    revise = "revise"


S = ListingStatus
TRANSITIONS: dict[tuple[ListingStatus, Action], tuple[ListingStatus, frozenset[Party]]] = {
    (S.draft, Action.publish): (S.published, frozenset({Party.owner})),
    (S.published, Action.close): (S.closed, frozenset({Party.owner})),
    (S.published, Action.take_down): (S.taken_down, frozenset({Party.admin})),
    (S.published, Action.expire): (S.expired, frozenset({Party.system})),
    (S.closed, Action.revise): (S.draft, frozenset({Party.owner})),
    (S.taken_down, Action.revise): (S.draft, frozenset({Party.owner})),
    (S.expired, Action.revise): (S.draft, frozenset({Party.owner})),
}


_WHO_ZH = {
    Party.admin: "只有管理员可以执行该操作。",
    Party.owner: "只有信息的所属机构成员可以执行该操作。",
    Party.system: "该操作由系统自动执行。",
}


def allowed(status: ListingStatus, action: Action) -> bool:
    return (status, action) in TRANSITIONS


def next_status(
    status: ListingStatus, action: Action, parties: frozenset[Party] | set[Party]
) -> ListingStatus:
    """The status after `action`, or InvalidTransition (409) / NotPermitted (403)."""
    entry = TRANSITIONS.get((status, action))
    if entry is None:
        raise InvalidTransition(
            message_en=f"A {status.value} listing does not allow {action.value}.",
            message_zh=f"{status.label}状态的信息不能执行该操作。",
            extra={"current_status": status.value, "action": action.value},
        )
    target, who = entry
    if not who & set(parties):
        raise NotPermitted(
            code="not_listing_party",
            message_en=f"Only the {' or '.join(sorted(who))} may do this ({action.value}).",
            message_zh=_WHO_ZH[min(who)],
        )
    return target
