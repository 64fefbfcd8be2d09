"""Registering contracts through the services (fast, no HTTP) on chosen dates, for the statistics."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Organization, OrganizationKind, Role, User
from app.contracts import service, transitions
from app.contracts.documents import document_store
from app.contracts.schemas import ApplicationCreate
from app.contracts.workflow import Action
from app.core.config import Settings
from app.models import Base
from tests.fixtures.accounts import create_organization, create_user, credit_code

SELLER_REGIONS = ["320102", "320505", "360102"]  # 南京玄武, 苏州吴中... , 南昌东湖
_TABLES = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)


@dataclass
class Setup:
    officers: dict[str, User]  # by the seller region's first four digits
    applicants: dict[str, tuple[User, Organization]]


async def truncate(db: AsyncSession) -> None:
    await db.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    await db.commit()


async def setup(db: AsyncSession) -> Setup:
    officers: dict[str, User] = {}
    applicants: dict[str, tuple[User, Organization]] = {}
    for region in SELLER_REGIONS:
        office = await create_organization(
            db, kind=OrganizationKind.registration_office, region_code=region[:4] + "00"
        )
        office.registration_point = "01"
        await db.commit()
        officers[region] = await create_user(db, role=Role.registration_officer, organization=office)
        seller = await create_organization(db, kind=OrganizationKind.enterprise, region_code=region)
        applicants[region] = (await create_user(db, organization=seller), seller)
    return Setup(officers, applicants)


async def register(
    db: AsyncSession,
    s: Setup,
    settings: Settings,
    *,
    region: str,
    on: date,
    contract_amount: Decimal,
    technology_amount: Decimal,
    contract_type: str = "development",
    subtype: str | None = None,
    field: str = "new_energy",
    seller_kind: str = "enterprise",
    ip_kind: str = "patent",
) -> str:
    user, seller = s.applicants[region]
    data = ApplicationCreate.model_validate(
        {
            "contract_type": contract_type,
            "contract_subtype": subtype or {"development": "commissioned"}.get(contract_type, "general"),
            "project_name": "统计测试合同",
            "buyer": {
                "name": "买方",
                "credit_code": credit_code(),
                "region_code": "320505",
                "kind": "enterprise",
            },
            "seller": {
                "name": seller.name,
                "credit_code": seller.credit_code,
                "region_code": region,
                "kind": seller_kind,
            },
            "signed_on": "2015-01-01",
            "valid_from": "2015-01-01",
            "valid_until": "2030-01-01",
            "contract_amount": contract_amount,
            "claimed_technology_amount": technology_amount,
            "deductions": {"other": contract_amount - technology_amount},
            "technology_field": field,
            "ip_kind": ip_kind,
            "socio_economic_objective": "测试",
            "expected_new_investment": "0",
            "expected_new_output": "0",
        }
    )
    app = await service.create_application(db, user=user, data=data, today=on, settings=settings)
    await service.attach_document(
        db,
        user=user,
        application_id=app.id,
        name="c.pdf",
        data=f"合同文本 {app.id}".encode(),
        store=document_store(settings.data_dir),
    )
    officer = s.officers[region]
    for action, who, params in [
        (Action.submit, user, {}),
        (Action.accept, officer, {}),
        (Action.start_review, officer, {}),
    ]:
        await transitions.act(
            db, user=who, application_id=app.id, action=action, settings=settings, params=params, today=on
        )
    if app.status == "expert_review":
        await transitions.act(
            db,
            user=officer,
            application_id=app.id,
            action=Action.add_expert_opinion,
            settings=settings,
            params={"opinion": {"expert_name": "专家", "opinion": "同意"}},
            today=on,
        )
    await transitions.act(
        db,
        user=officer,
        application_id=app.id,
        action=Action.register,
        settings=settings,
        params={"technology_amount": technology_amount},
        today=on,
    )
    await db.commit()
    return str(app.id)


async def officer_act(
    db: AsyncSession,
    s: Setup,
    settings: Settings,
    region: str,
    app_id: str,
    action: Action,
    params: dict,
    on: date,
) -> None:
    who = s.applicants[region][0] if action == Action.object else s.officers[region]
    await transitions.act(
        db,
        user=who,
        application_id=app_id,
        action=action,  # type: ignore[arg-type]
        settings=settings,
        params=params,
        today=on,
    )
    await db.commit()
