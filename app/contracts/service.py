"""The rules of 技术合同认定登记. Services flush, never commit: the request's unit of work commits
the transition, its history row, its audit row and its summary change together."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, Role, User
from app.audit import service as audit
from app.contracts import certificate, policy, repository
from app.contracts.calendar import Deadline, WorkingCalendar
from app.contracts.documents import DocumentStore
from app.contracts.models import ContractApplication
from app.contracts.schemas import ApplicationFields, QueueItem
from app.contracts.workflow import Action, Actor, Status
from app.core.config import Settings, get_settings
from app.core.db import unique_violation
from app.core.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    ValidationFailed,
)
from app.core.pagination import PageParams
from app.core.types import CHINA, today_in_china
from app.stats import summary

NOT_FOUND = NotFound(
    code="contract_not_found", message_en="No such application.", message_zh="登记申请不存在。"
)
AMOUNT_FIELDS = ("registered_contract_amount", "registered_technology_amount")


def _invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, en, zh)])


def _columns(data: ApplicationFields, applicant_region: str) -> dict[str, Any]:
    parties = {"buyer": data.buyer, "seller": data.seller}
    applicant = "buyer" if data.is_import else "seller"
    # The applicant party's region is its organisation's registered one, whatever the form says.
    parties[applicant] = parties[applicant].model_copy(update={"region_code": applicant_region})
    return {
        "contract_type": data.contract_type,
        "contract_subtype": data.contract_subtype,
        "project_name": data.project_name,
        "is_import": data.is_import,
        **{
            f"{side}_{k}": getattr(party, k)
            for side, party in parties.items()
            for k in ("name", "credit_code", "region_code", "kind")
        },
        "stats_region_code": applicant_region,
        "signed_on": data.signed_on,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "contract_amount": data.contract_amount,
        "claimed_technology_amount": data.claimed_technology_amount,
        **{
            f"deduction_{k}": getattr(data.deductions, k)
            for k in ("equipment", "materials", "construction", "other")
        },
        "technology_field": data.technology_field,
        "ip_kind": data.ip_kind,
        "socio_economic_objective": data.socio_economic_objective,
        "expected_new_investment": data.expected_new_investment,
        "expected_new_output": data.expected_new_output,
        "achievement_id": data.achievement_id,
        "demand_id": data.demand_id,
        "disputed": data.disputed,
    }


def _check_applicant_organization(organization: Organization) -> tuple[str, str]:
    """The seller side applies (for an import, the domestic buyer), identified by the credit code
    and region an administrator verified: an organisation without them cannot apply at all."""
    if organization.credit_code is None:
        raise NotPermitted(
            code="organization_without_credit_code",
            message_en="Your organisation has no unified social credit code on record, so it cannot apply.",
            message_zh="本机构未登记统一社会信用代码，不能申请技术合同登记。",
        )
    if organization.region_code is None:
        raise NotPermitted(
            code="organization_without_region",
            message_en="Your organisation has no region on record, so no office can register its contracts.",
            message_zh="本机构未登记所在地区，不能申请技术合同登记。",
        )
    if not organization.verified:
        raise NotPermitted(
            code="organization_not_verified",
            message_en="Only verified organisations may apply for registration.",
            message_zh="机构经审核后方可申请技术合同登记。",
        )
    return organization.credit_code, organization.region_code


def _implausible(data: ApplicationFields, today: date, settings: Settings) -> list[FieldError]:
    found = []
    if data.signed_on > today:
        found.append(
            FieldError("signed_on", "in_future", "The signing date is in the future.", "签订日期晚于今天。")
        )
    if data.signed_on < settings.contract_signed_on_floor:
        floor = settings.contract_signed_on_floor.isoformat()
        found.append(
            FieldError("signed_on", "before_floor", f"Signed before {floor}.", f"签订日期早于 {floor}。")
        )
    if (too_large := above_ceiling(data.contract_amount, settings)) is not None:
        found.append(too_large)
    return found


def above_ceiling(contract_amount: Decimal, settings: Settings) -> FieldError | None:
    """A form's amount and an amendment's are judged alike: above the ceiling is not plausible."""
    if contract_amount <= settings.contract_amount_ceiling:
        return None
    ceiling = f"{settings.contract_amount_ceiling:,}"
    return FieldError(
        "contract_amount",
        "above_ceiling",
        f"A contract amount above {ceiling} yuan is not plausible.",
        f"成交额超过 {ceiling} 元，不合常理。",
    )


async def _route(
    session: AsyncSession,
    user: User,
    data: ApplicationFields,
    today: date,
    settings: Settings,
    *,
    office_id: uuid.UUID | None = None,
    applicant_organization_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The form's columns with the office it goes to: `office_id` once submitted (fixed for good),
    else the office of the applicant organisation's region. The applicant organisation is the
    user's own, or the seller a deal's broker hands off for (`applicant_organization_id`)."""
    if user.role == Role.registration_officer:
        raise NotPermitted(
            code="officers_do_not_apply",
            message_en="Officers cannot file applications.",
            message_zh="登记员不能申请登记。",
        )
    organization = await repository.get_organization(
        session, applicant_organization_id or user.organization_id
    )
    credit_code, region_code = _check_applicant_organization(organization)
    if problems := [*data.problems(), *_implausible(data, today, settings)]:
        raise ValidationFailed(errors=problems)
    side = "buyer" if data.is_import else "seller"
    applicant = data.buyer if data.is_import else data.seller
    if applicant.credit_code != credit_code:
        raise _invalid(
            f"{side}.credit_code",
            "not_applicant",
            "The applicant party (the seller; the domestic buyer of an import) must be your organisation.",
            "申请登记方（卖方；技术进口合同为境内买方）须为本机构。",
        )
    if applicant.region_code not in (None, region_code):
        raise _invalid(
            f"{side}.region_code",
            "not_applicant_region",
            "The applicant party's region is your organisation's registered region.",
            "申请登记方的地区须为本机构登记的所在地区。",
        )
    if office_id is None:
        office = await repository.office_for_region(session, region_code)
        if office is None:
            raise _invalid(
                f"{side}.region_code",
                "no_registration_office",
                "No registration office serves this region.",
                "该地区没有技术合同登记机构。",
            )
        office_id = office.id
    return {**_columns(data, region_code), "office_id": office_id}


DUPLICATE_CONSTRAINTS = ("uq_contract_applications_live_document", "uq_contract_applications_live_contract")


async def _write_once_per_contract(
    session: AsyncSession, application_id: uuid.UUID, key: dict[str, Any], write: Callable[[], None]
) -> None:
    """Apply `write` and flush it in a savepoint. If the application would then hold a contract that
    another live or registered one holds (the unique indexes of HOLDS_THE_CONTRACT) — perhaps filed
    a moment ago by a concurrent request — 409 `duplicate_contract` naming that one."""
    try:
        async with session.begin_nested():
            write()
            await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) not in DUPLICATE_CONSTRAINTS:
            raise
        holder = await repository.holder_of_contract(session, exclude_id=application_id, **key)
        raise duplicate_contract(holder) from None


def duplicate_contract(holder: ContractApplication | None) -> Conflict:
    return Conflict(
        code="duplicate_contract",
        message_en="Another application for this contract (same document, or same parties, project "
        "name and signing date) is in progress or registered.",
        message_zh="该合同（合同文本相同，或当事人、项目名称和签订日期相同）已有在办或已登记的申请。",
        extra={
            "duplicate_of": {
                "id": str(holder.id),
                "status": holder.status.value,
                "registration_number": holder.registration_number,
            }
            if holder
            else None
        },
    )


async def holder_of_contract(
    session: AsyncSession, application: ContractApplication
) -> ContractApplication | None:
    """Another live or registered application for the contract `application` is for."""
    key = _contract_key({k: getattr(application, k) for k in KEY_COLUMNS}, application.document_sha256)
    return await repository.holder_of_contract(session, exclude_id=application.id, **key)


KEY_COLUMNS = (
    "seller_credit_code",
    "seller_name",
    "buyer_credit_code",
    "buyer_name",
    "project_name",
    "signed_on",
)


def _contract_key(columns: dict[str, Any], document_sha256: str | None) -> dict[str, Any]:
    """What identifies a contract (see app/contracts/models.py, HOLDS_THE_CONTRACT)."""
    return {
        "document_sha256": document_sha256,
        "seller": columns["seller_credit_code"] or columns["seller_name"],
        "buyer": columns["buyer_credit_code"] or columns["buyer_name"],
        "project_name": columns["project_name"],
        "signed_on": columns["signed_on"],
    }


async def create_application(
    session: AsyncSession,
    *,
    user: User,
    data: ApplicationFields,
    today: date | None = None,
    settings: Settings | None = None,
    applicant_organization_id: uuid.UUID | None = None,
    deal_id: uuid.UUID | None = None,
) -> ContractApplication:
    """A draft by `user` for their organisation, or — a deal's hand-off (app/deals/handoff) — for
    the deal's seller (`applicant_organization_id`), linked to the deal (`deal_id`, which no client
    form carries). Every rule of the form applies either way."""
    columns = await _route(
        session,
        user,
        data,
        today or today_in_china(),
        settings or get_settings(),
        applicant_organization_id=applicant_organization_id,
    )
    if deal_id is not None:
        columns["deal_id"] = deal_id
    application = ContractApplication(
        id=uuid.uuid4(),
        applicant_organization_id=applicant_organization_id or user.organization_id,
        created_by_id=user.id,
        status=Status.draft,
        version=1,
        correction_items=[],
        expert_opinions=[],
        **columns,
    )
    await _write_once_per_contract(
        session, application.id, _contract_key(columns, None), lambda: session.add(application)
    )
    await audit.record(
        session,
        actor=user,
        object_type="contract_application",
        object_id=application.id,
        action="create",
        changes={k: v for k, v in columns.items()},
    )
    await session.flush()
    await session.refresh(application)
    return application


async def update_application(
    session: AsyncSession,
    *,
    user: User,
    application_id: uuid.UUID,
    data: ApplicationFields,
    expected_version: int | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> ContractApplication:
    """Edit a draft, or the material of an application waiting for correction (补正). Once
    submitted, the office stays the one it was submitted to."""
    application = await _locked(session, user, application_id, expected_version)
    if Actor.applicant not in policy.capacities(user, application):
        raise NotPermitted()
    if application.status not in (Status.draft, Status.correction_requested):
        raise InvalidTransition(
            code="not_editable",
            message_en="Only drafts and applications awaiting correction can be edited.",
            message_zh="只有草稿和待补正的申请可以修改。",
            extra={"current_status": application.status.value},
        )
    columns = await _route(
        session,
        user,
        data,
        today or today_in_china(),
        settings or get_settings(),
        office_id=None if application.status == Status.draft else application.office_id,
    )
    before = {k: getattr(application, k) for k in columns}

    def write() -> None:
        for key, value in columns.items():
            setattr(application, key, value)
        application.version += 1

    key = _contract_key(columns, application.document_sha256)
    await _write_once_per_contract(session, application.id, key, write)
    await audit.record(
        session,
        actor=user,
        object_type="contract_application",
        object_id=application.id,
        action="update",
        changes=audit.diff(before, columns),
    )
    await session.flush()
    await session.refresh(application)
    return application


async def get_application(
    session: AsyncSession, *, user: User, application_id: uuid.UUID
) -> ContractApplication:
    application = await repository.get_visible(session, user, application_id)
    if application is None:
        raise NOT_FOUND
    return application


async def _locked(
    session: AsyncSession, user: User, application_id: uuid.UUID, expected_version: int | None
) -> ContractApplication:
    application = await repository.get_visible(session, user, application_id, lock=True)
    if application is None:
        raise NOT_FOUND
    if expected_version is not None and application.version != expected_version:
        raise PreconditionFailed(extra={"current_version": application.version})
    return application


async def _calendar(session: AsyncSession, start: date, days: int) -> WorkingCalendar:
    # A 30-working-day deadline spans at most ~2 months; load the administrators' years it may touch.
    years = list(range(start.year, start.year + 2 + days // 200))
    return WorkingCalendar(await repository.admin_calendar(session, years))


async def deadline(session: AsyncSession, start: date, days: int) -> Deadline:
    return (await _calendar(session, start, days)).add_working_days(start, days)


async def recount_provisional_deadlines(session: AsyncSession, *, user: User, settings: Settings) -> None:
    """Deadlines counted Monday–Friday for want of a calendar (`due_provisional`), counted again now
    that administrators published one: each from its acceptance date, by the clock that last
    started it (expert review's, or the ordinary one); a decision already taken is judged on time
    or late against the new date. Audited per application."""
    clocks = [
        Action.accept.value,
        Action.resubmit.value,
        Action.reopen.value,
        Action.refer_to_experts.value,
        Action.refer_amendment.value,
    ]
    for app, clock in await repository.provisional_deadlines(session, clocks):
        assert app.accepted_on is not None and app.due_on is not None
        due = await deadline(session, app.accepted_on, review_days(app, settings, clock))
        if (due.due_on, due.provisional) == (app.due_on, app.due_provisional):
            continue
        changes: dict[str, Any] = {"due_on": [app.due_on, due.due_on], "provisional": [True, due.provisional]}
        app.due_on, app.due_provisional = due.due_on, due.provisional
        if app.decided_on is not None:
            on_time = app.decided_on <= app.due_on
            changes["decided_on_time"] = [app.decided_on_time, on_time]
            app.decided_on_time = on_time
        await audit.record(
            session,
            actor=user,
            object_type="contract_application",
            object_id=app.id,
            action="deadline_recounted",
            changes=changes,
        )


def requires_experts(
    application: ContractApplication, settings: Settings, certifying: Decimal | None = None
) -> bool:
    """Large or disputed. Large by the amount claimed or, at registration, by the amount the officer
    certifies: a contract claimed under the threshold but certified over it is a large one too."""
    amount = max(application.claimed_technology_amount, certifying or Decimal(0))
    return amount >= settings.contract_large_threshold or application.disputed


def review_days(application: ContractApplication, settings: Settings, clock: str | None) -> int:
    """Working days of the clock a transition starts: expert review's for a referral (of the
    application or of a change to a large amount) and for an objection reopened on a large or
    disputed contract, else the ordinary review's."""
    if clock in (Action.refer_to_experts.value, Action.refer_amendment.value) or (
        clock == Action.reopen.value
        and requires_experts(application, settings, certifying=application.registered_technology_amount)
    ):
        return settings.contract_expert_review_working_days
    return settings.contract_review_working_days


def contribution(application: ContractApplication, sign: int) -> summary.Contribution:
    assert application.registered_on is not None
    assert (
        application.registered_contract_amount is not None
        and application.registered_technology_amount is not None
    )
    return summary.Contribution(
        registered_on=application.registered_on,
        region_code=application.stats_region_code,
        values={
            "type": application.contract_type.value,
            "field": application.technology_field.value,
            "seller_kind": application.seller_kind.value,
            "ip_kind": application.ip_kind.value,
        },
        count=sign,
        contract_amount=sign * application.registered_contract_amount,
        technology_amount=sign * application.registered_technology_amount,
    )


Effect = Callable[..., Awaitable[dict[str, Any]]]


async def queue(
    session: AsyncSession,
    *,
    user: User,
    page: PageParams,
    today: date | None = None,
    settings: Settings | None = None,
) -> tuple[list[QueueItem], int]:
    """The officer's queue: new arrivals (submitted, resubmitted after 补正) first, longest waiting
    first; then the open applications by deadline, overdue and due-soon flagged."""
    if user.role != Role.registration_officer:
        raise NotPermitted(
            code="role_required",
            message_en="Only registration officers have a queue.",
            message_zh="只有登记员有待办队列。",
        )
    today = today or today_in_china()
    due_soon = (settings or get_settings()).contract_due_soon_working_days
    rows, total = await repository.office_queue(session, user.organization_id, page)
    # Waits and deadlines are counted in China's working days, whatever years they span.
    days = [today, *(since.astimezone(CHINA).date() for _, since in rows)]
    days += [app.due_on for app, _ in rows if app.due_on]
    years = list(range(min(days).year, max(days).year + 2))
    calendar = WorkingCalendar(await repository.admin_calendar(session, years))
    items = []
    for app, since in rows:
        waited = calendar.working_days_between(since.astimezone(CHINA).date(), today)
        item = QueueItem(
            id=app.id,
            project_name=app.project_name,
            status=app.status,
            waiting_since=since,
            working_days_waited=max(waited, 0),
            accepted_on=app.accepted_on,
            due_on=app.due_on,
            due_provisional=app.due_provisional,
        )
        if app.due_on is not None:  # a new submission's clock starts when it is accepted
            item.working_days_left = left = calendar.working_days_between(today, app.due_on)
            item.overdue = today > app.due_on
            item.due_soon = today <= app.due_on and left <= due_soon
        items.append(item)
    return items, total


async def certificate_pdf(
    session: AsyncSession, *, user: User, application_id: uuid.UUID, base_url: str
) -> tuple[bytes, str]:
    app = await get_application(session, user=user, application_id=application_id)
    if app.registration_number is None or app.registered_contract_amount is None:
        raise Conflict(
            code="not_registered",
            message_en="Only registered contracts have a certificate.",
            message_zh="只有准予登记的合同才有登记证明。",
        )
    # A certificate states what is registered: none for a registration no longer in force —
    # public verification says the same of its number.
    refused = {
        "cancelled": ("The registration was cancelled.", "该登记已注销，不再出具登记证明。"),
        "revoked": ("The registration was refused on re-examination.", "该登记经异议复核不予登记。"),
        "suspended": ("An objection is being re-examined.", "该登记因异议复核中止，期间不出具登记证明。"),
    }
    status = certificate.public_status(app)
    if status in refused:
        en, zh = refused[status]
        raise Conflict(code=f"registration_{status}", message_en=en, message_zh=zh)
    office = await repository.get_organization(session, app.office_id)
    current = certificate.versions(app, await repository.events(session, app.id))[-1]
    pdf = certificate.render_pdf(app, current, office_name=office.name, base_url=base_url)
    return pdf, app.registration_number


async def attach_document(
    session: AsyncSession,
    *,
    user: User,
    application_id: uuid.UUID,
    name: str,
    data: bytes,
    store: DocumentStore,
) -> ContractApplication:
    """Store the contract text and record its hash and name on a draft (or during correction)."""
    application = await _locked(session, user, application_id, None)
    if Actor.applicant not in policy.capacities(user, application):
        raise NotPermitted()
    if application.status not in (Status.draft, Status.correction_requested):
        raise InvalidTransition(
            code="not_editable",
            message_en="Only drafts and applications awaiting correction take a new document.",
            message_zh="只有草稿和待补正的申请可以更换合同文本。",
            extra={"current_status": application.status.value},
        )
    if not data:
        raise _invalid("body", "empty", "The document is empty.", "合同文本为空。")
    sha256 = await store.put(application.id, data)
    before = {"document_sha256": application.document_sha256, "document_name": application.document_name}

    def write() -> None:
        application.document_sha256, application.document_name = sha256, name
        application.version += 1

    key = _contract_key({k: getattr(application, k) for k in KEY_COLUMNS}, sha256)
    await _write_once_per_contract(session, application.id, key, write)
    await audit.record(
        session,
        actor=user,
        object_type="contract_application",
        object_id=application.id,
        action="attach_document",
        changes=audit.diff(before, {"document_sha256": sha256, "document_name": name}),
    )
    await session.flush()
    await session.refresh(application)
    return application
