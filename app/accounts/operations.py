"""Units of work for operator commands: open a session, call the services, commit once."""

import secrets

from pydantic import ValidationError

from app.accounts import repository, service
from app.accounts.models import OrganizationKind, Role, User
from app.accounts.schemas import OrganizationCreate, RegistrationUser
from app.audit.service import SystemActor
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import AppError

DEMO_ADMIN_EMAIL = "admin@techex-demo.cn"
DEMO_ORGANIZATION = "技术产权交易市场运营中心"


async def create_user_with_organization(
    settings: Settings,
    *,
    email: str,
    password: str,
    role: Role,
    organization_name: str,
    organization_kind: OrganizationKind,
    verified: bool = False,
    region_code: str | None = None,
    credit_code: str | None = None,
    registration_point: str | None = None,
    full_name: str = "",
) -> User:
    """Raises ValueError with a readable reason for any invalid input or conflict."""
    assert settings.database_url is not None
    database = Database.from_url(settings.database_url, pool_size=1)
    try:
        account = RegistrationUser(email=email, password=password, full_name=full_name)
        async with database.sessionmaker() as session, session.begin():
            actor = SystemActor()
            organization = await repository.get_organization_by_name(session, organization_name)
            if organization is None:
                data = OrganizationCreate(
                    kind=organization_kind,
                    name=organization_name,
                    credit_code=credit_code,
                    region_code=region_code,
                    registration_point=registration_point,
                )
                organization = await service.create_organization(
                    session, actor=actor, data=data, verified=verified
                )
            elif organization.kind != organization_kind:
                raise ValueError(
                    f"organization {organization_name!r} exists with kind {organization.kind.value}"
                )
            elif verified:
                await service.verify_organization(session, actor=actor, organization_id=organization.id)
            return await service.create_user(
                session,
                actor=actor,
                organization=organization,
                email=account.email,
                password=account.password,
                role=role,
                full_name=account.full_name,
            )
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(reasons) from exc
    except AppError as exc:
        details = "; ".join(f"{e.field}: {e.message_en}" for e in exc.errors)
        raise ValueError(f"{exc.message_en} {details}".strip()) from exc
    finally:
        await database.dispose()


async def ensure_demo_admin(settings: Settings) -> tuple[str, str] | None:
    """Create the demo administrator once; returns its credentials only when it was just created."""
    assert settings.database_url is not None
    database = Database.from_url(settings.database_url, pool_size=1)
    try:
        async with database.sessionmaker() as session:
            if await repository.get_user_by_email(session, DEMO_ADMIN_EMAIL) is not None:
                return None
    finally:
        await database.dispose()
    password = secrets.token_urlsafe(12)
    await create_user_with_organization(
        settings,
        email=DEMO_ADMIN_EMAIL,
        password=password,
        role=Role.admin,
        organization_name=DEMO_ORGANIZATION,
        organization_kind=OrganizationKind.government,
        verified=True,
        region_code="320000",
    )
    return DEMO_ADMIN_EMAIL, password
