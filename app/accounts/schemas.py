import uuid
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    computed_field,
    model_validator,
)

from app.accounts.models import OrganizationKind, Role
from app.core.regions import region_name
from app.core.security import PASSWORD_MAX_LENGTH
from app.core.types import ChinaTime, CreditCode, RegionCode, safe_text

Email = Annotated[EmailStr, AfterValidator(str.lower), Field(max_length=254, examples=["zhang@nju.edu.cn"])]
Password = Annotated[
    str,
    Field(
        min_length=10,
        max_length=PASSWORD_MAX_LENGTH,
        description="至少 10 个字符且不易猜测 / at least 10 characters, not guessable (zxcvbn score)",
    ),
]
OrganizationName = safe_text(max_length=200, min_length=2)
PersonName = safe_text(max_length=100)
RegistrationPoint = Annotated[
    str, Field(pattern=r"^\d{2}$", description="登记点编号（两位数字）", examples=["01"])
]

SELF_SERVICE_KINDS = (
    OrganizationKind.university,
    OrganizationKind.research_institute,
    OrganizationKind.enterprise,
    OrganizationKind.agency,
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganizationCreate(_Input):
    kind: OrganizationKind = Field(
        description="机构类型：" + "、".join(f"{k.value}={k.label}" for k in OrganizationKind)
    )
    name: OrganizationName
    credit_code: CreditCode | None = None
    region_code: RegionCode | None = None
    registration_point: RegistrationPoint | None = None

    @model_validator(mode="after")
    def _registration_point_only_for_offices(self) -> "OrganizationCreate":
        if self.registration_point is not None and self.kind != OrganizationKind.registration_office:
            raise ValueError("registration_point applies only to registration offices")
        return self


class SelfServiceOrganization(_Input):
    kind: Literal[*SELF_SERVICE_KINDS] = Field(  # type: ignore[valid-type]
        description="自助注册的机构类型：高校、科研院所、企业、服务机构"
    )
    name: OrganizationName
    credit_code: CreditCode
    region_code: RegionCode


class RegistrationUser(_Input):
    email: Email
    password: Password
    full_name: PersonName = ""


class RegistrationRequest(_Input):
    """Self-service sign-up: an organization (unverified until an administrator checks it)
    and its first user."""

    organization: SelfServiceOrganization
    user: RegistrationUser


class UserCreate(RegistrationUser):
    role: Role = Field(description="角色：" + "、".join(f"{r.value}={r.label}" for r in Role))
    organization_id: uuid.UUID


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: OrganizationKind
    name: str
    credit_code: str | None
    region_code: str | None
    registration_point: str | None
    verified: bool
    verified_at: ChinaTime | None
    created_at: ChinaTime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return self.kind.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        return region_name(self.region_code) if self.region_code else None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    organization: OrganizationRead
    created_at: ChinaTime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def role_label(self) -> str:
        return self.role.label


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="access token lifetime in seconds")
    refresh_token: str
    refresh_expires_in: int = Field(description="refresh token lifetime in seconds")


class RefreshRequest(_Input):
    refresh_token: Annotated[str, Field(min_length=16, max_length=128)]


class LogoutRequest(_Input):
    refresh_token: Annotated[str | None, Field(min_length=16, max_length=128)] = None
