import uuid

from fastapi import APIRouter, Request, status

from app.accounts.auth import CurrentUser
from app.contracts import policy
from app.contracts.http import ExactJSONRoute
from app.contracts.schemas import ApplicationRead
from app.contracts.workflow import allowed_actions
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.deals.handoff import service
from app.deals.handoff.schemas import HandOff

router = APIRouter(prefix="/deals", tags=["deals"], route_class=ExactJSONRoute)


@router.post(
    "/{deal_id}/contract-application",
    response_model=ApplicationRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Hand a signed deal off to registration · 移交技术合同认定登记",
)
async def hand_off(
    request: Request, session: SessionDep, user: CurrentUser, deal_id: uuid.UUID, body: HandOff
) -> ApplicationRead:
    """The seller side (members of the seller organization) or the deal's broker starts the
    registration application (a draft, applicant = the seller organization) pre-filled from the
    signed deal: both parties with names, credit codes, regions and kinds; contract type and subtype
    from the transfer mode (转让 by the achievement's first right: granted patent → patent_right,
    pending → patent_application_right, know-how or none → technical_secret, other rights →
    other_right; 独占/排他/普通许可 and 先使用后付费 → licensing; 合作开发 → development/cooperative;
    作价投资 and other: give `contract_type` and `contract_subtype`); contract and claimed technology
    amounts from the agreed price (less any `deductions`); IP category and technology field from the
    achievement; `signed_on` the day (China time) the deal entered `signed` unless given; the
    listings and the deal. The body carries what the deal cannot know — 422 naming each missing
    field (`valid_until`, `socio_economic_objective`, for a transfer `expected_new_investment` and
    `expected_new_output`, `contract_type` where the transfer mode implies none, `technology_field`
    where the listing has none). The seller then uploads the document and submits the application
    as any other (`/contracts/{id}`); the registration's outcome moves the deal
    (registration_submitted, registered with its number and certified amounts, back to signed when
    refused or cancelled).

    Errors: 404 `deal_not_found` to anyone who may not see the deal; 403 `not_seller_side` to its
    buyer or an administrator; 409 `already_handed_off` (naming the application) while an
    application of the deal is in progress or registered, 409 `deal_not_signed` (with
    `current_status`) in any other stage, 409 `deal_incomplete` (with `missing`) when the deal has
    no agreed price, seller or buyer; and every rule of a new application: 403
    `organization_not_verified` / `organization_without_credit_code` / `organization_without_region`
    for the seller organization, 422 for an implausible form, 409 `duplicate_contract`."""
    application = await service.hand_off(
        session, user=user, deal_id=deal_id, body=body, settings=request.app.state.settings
    )
    read = ApplicationRead.model_validate(application)
    read.allowed_actions = allowed_actions(application.status, policy.capacities(user, application))
    return read
