"""Who may read a listing's confidential details, decided here and nowhere else.

  owner        — members of the owning organization: always (they wrote them);
  admin        — administrators: always, each read audited;
  counterpart  — a member of the deal's other organization (the buyer of an achievement, the
                 seller for a demand), and
  broker       — the deal's technology manager (bound to secrecy by art. 30, but not trusted on
                 that alone): each only while the deal is not lost, after the owner approved
                 disclosure for that deal (`disclosure_not_approved`) and after that very user
                 recorded an undertaking for the current version (`undertaking_required`).
Everyone else is told the details do not exist (404)."""

from enum import StrEnum

from app.accounts.models import Role, User
from app.deals.models import Deal
from app.listings import policy as listings_policy
from app.listings.lifecycle import Party
from app.listings.models import ListingColumns


class Access(StrEnum):
    owner = "owner"
    admin = "admin"
    counterpart = "counterpart"
    broker = "broker"


def as_owner_or_admin(kind: str, user: User, listing: ListingColumns) -> Access | None:
    """Owner before administrator: an administrator's reads are audited, an owner's are not."""
    parties = listings_policy.parties(kind, user, listing)
    if Party.owner in parties:
        return Access.owner
    if user.role == Role.admin:
        return Access.admin
    return None


def is_owner(kind: str, user: User, listing: ListingColumns) -> bool:
    """Who decides on disclosure: the owning organization's members, not administrators."""
    return Party.owner in listings_policy.parties(kind, user, listing) and user.role != Role.admin


def reader_capacity(kind: str, user: User, deal: Deal) -> Access | None:
    """The capacity in which `user` would read `kind` details in `deal`, if any."""
    counterpart = deal.buyer_organization_id if kind == "achievement" else deal.seller_organization_id
    if counterpart is not None and user.organization_id == counterpart:
        return Access.counterpart
    if deal.broker_user_id is not None and user.id == deal.broker_user_id:
        return Access.broker
    return None
