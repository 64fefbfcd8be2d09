"""Who sees and who acts on an application. Applied inside the repository's queries, so a
forgotten check cannot leak rows: the applicant organisation, the office's officers (once
submitted), admins."""

from sqlalchemy import ColumnElement, true

from app.accounts.models import Role, User
from app.contracts.models import ContractApplication
from app.contracts.workflow import Actor, Status


def visible(user: User) -> ColumnElement[bool]:
    if user.role == Role.admin:
        return true()
    if user.role == Role.registration_officer:
        # A draft is the applicant's until submitted: the office sees nothing of it before then.
        return (ContractApplication.office_id == user.organization_id) & (
            ContractApplication.status != Status.draft
        )
    return ContractApplication.applicant_organization_id == user.organization_id


def capacities(user: User | None, application: ContractApplication) -> frozenset[Actor]:
    """The capacities in which `user` may act on this application (empty: none)."""
    if user is None:
        return frozenset()
    found: set[Actor] = set()
    if user.role == Role.admin:
        found.add(Actor.admin)
    if user.role == Role.registration_officer and user.organization_id == application.office_id:
        found.add(Actor.officer)
    if (
        user.role != Role.registration_officer
        and user.organization_id == application.applicant_organization_id
    ):
        found.add(Actor.applicant)
    return frozenset(found)
