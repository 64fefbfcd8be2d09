"""Who may see and act on a deal: its parties (members of the seller and buyer organizations), its
broker (the technology manager of the mandate in force) and administrators. Everyone else is told
the deal does not exist (404), so a deal's existence leaks nothing."""

from enum import StrEnum

from app.accounts.models import Role, User
from app.deals.models import Deal


class Side(StrEnum):
    seller = "seller"
    buyer = "buyer"
    broker = "broker"
    admin = "admin"


def sides(user: User, deal: Deal) -> frozenset[Side]:
    """Every capacity in which `user` stands in `deal` (a broker's agency may also be a party)."""
    held: set[Side] = set()
    if user.role == Role.admin:
        held.add(Side.admin)
    if deal.broker_user_id is not None and user.id == deal.broker_user_id:
        held.add(Side.broker)
    if deal.seller_organization_id is not None and user.organization_id == deal.seller_organization_id:
        held.add(Side.seller)
    if deal.buyer_organization_id is not None and user.organization_id == deal.buyer_organization_id:
        held.add(Side.buyer)
    return frozenset(held)


# Who acts for the seller: its members, and the deal's broker (who, with no buyer yet, acts for it).
SELLER_SIDE = frozenset({Side.seller, Side.broker})


def acts_for_seller(user: User, deal: Deal) -> bool:
    return bool(sides(user, deal) & SELLER_SIDE)


def can_read(user: User, deal: Deal) -> bool:
    return bool(sides(user, deal))
