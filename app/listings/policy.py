"""Who sees and who may change what — decided here and nowhere else.

Four audiences, each seeing a superset of the one before:
  public  — anonymous callers and members of unverified organizations: published listings only,
            without contacts, without the owner of a confidential demand, without expert phone/e-mail;
  member  — members of verified organizations: also contacts and expert phone/e-mail
            (still not the owner of a confidential demand);
  owner   — members of the owning organization (for experts also the expert's own account): everything,
            drafts included;
  admin   — administrators: everything.
`visible_clause` applies the same rule in SQL so that no query can forget it.
"""

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, true

from app.accounts.models import Role, User
from app.listings.lifecycle import Party
from app.listings.models import Expert, ListingColumns
from app.listings.vocabulary import ListingStatus


class Audience(IntEnum):
    public = 0
    member = 1
    owner = 2
    admin = 3


# Fields below their audience are left out of the view entirely (and so out of the search index).
_RESTRICTED: dict[str, Audience] = {
    "contacts": Audience.member,
    "phone": Audience.member,
    "email": Audience.member,
    "status_reason": Audience.owner,
    "created_by_id": Audience.owner,
    "user_id": Audience.owner,
}
# Fields a confidential demand hides from everyone outside its organization.
_CONFIDENTIAL = ("owner_organization_id", "owner_organization_name", "contacts")


# A listing is an ORM row or, on the read path, a row mapping of its columns.
Listing = ListingColumns | Mapping[str, Any]


def _get(listing: Listing, name: str) -> Any:
    if isinstance(listing, Mapping):
        return listing.get(name)
    return getattr(listing, name, None)


def is_owner(user: User | None, listing: Listing) -> bool:
    if user is None:
        return False
    expert_user = _get(listing, "user_id")
    if expert_user is not None and expert_user == user.id:
        return True
    return _get(listing, "owner_organization_id") == user.organization_id


def audience(user: User | None, listing: Listing) -> Audience:
    if user is None:
        return Audience.public
    if user.role == Role.admin:
        return Audience.admin
    if is_owner(user, listing):
        return Audience.owner
    return Audience.member if user.organization.verified else Audience.public


def parties(kind: str, user: User | None, listing: ListingColumns) -> frozenset[Party]:
    """The roles `user` holds toward `listing` in the lifecycle table."""
    if user is None:
        return frozenset()
    held = set()
    if user.role == Role.admin:
        held.add(Party.admin)
        if kind == "expert":  # the issue: an expert's entry is kept by the expert or an administrator
            held.add(Party.owner)
    if kind == "expert":
        if isinstance(listing, Expert) and listing.user_id == user.id:
            held.add(Party.owner)
    elif listing.owner_organization_id == user.organization_id and user.role in (
        Role.member,
        Role.tech_manager,
    ):
        held.add(Party.owner)
    return frozenset(held)


def view(kind: str, listing: Listing, level: Audience, *, owner_name: str | None = None) -> dict[str, Any]:
    """The listing's fields `level` may see, as a dict (hidden fields are absent, not empty)."""
    if isinstance(listing, Mapping):
        data = dict(listing)
        data.setdefault("owner_organization_name", owner_name)
    else:
        data = {column.key: getattr(listing, column.key) for column in listing.__table__.columns}
        data["owner_organization_name"] = owner_name
    data["kind"] = kind
    for name, needed in _RESTRICTED.items():
        if name in data and level < needed:
            del data[name]
    if kind == "demand" and data.get("confidential") and level < Audience.owner:
        for name in _CONFIDENTIAL:
            data.pop(name, None)
    return data


def public_view(kind: str, listing: Listing, *, owner_name: str | None = None) -> dict[str, Any]:
    """What an anonymous caller may see — the only fields a public search index may hold."""
    return view(kind, listing, Audience.public, owner_name=owner_name)


def visible_clause(model: type[ListingColumns], user: User | None) -> ColumnElement[bool]:
    """The rows `user` may read at all: published ones, plus their own, plus all for administrators."""
    if user is not None and user.role == Role.admin:
        return true()
    published = model.status == ListingStatus.published
    if user is None:
        return published
    clauses = [published, model.owner_organization_id == user.organization_id]
    if model is Expert:
        clauses.append(Expert.user_id == user.id)
    return or_(*clauses)
