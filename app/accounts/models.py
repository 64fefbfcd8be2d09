import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, Timestamps, UUIDPrimaryKey


class OrganizationKind(StrEnum):
    university = "university"
    research_institute = "research_institute"
    enterprise = "enterprise"
    agency = "agency"
    registration_office = "registration_office"
    government = "government"

    @property
    def label(self) -> str:
        return _ORGANIZATION_KIND_LABELS[self]


_ORGANIZATION_KIND_LABELS = {
    OrganizationKind.university: "高等院校",
    OrganizationKind.research_institute: "科研院所",
    OrganizationKind.enterprise: "企业",
    OrganizationKind.agency: "服务机构",
    OrganizationKind.registration_office: "技术合同登记机构",
    OrganizationKind.government: "政府部门",
}


class Role(StrEnum):
    admin = "admin"
    member = "member"
    tech_manager = "tech_manager"
    registration_officer = "registration_officer"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.admin: "管理员",
    Role.member: "成员",
    Role.tech_manager: "技术经理人",
    Role.registration_officer: "技术合同登记员",
}

# Which kinds of organization each role may belong to (DOMAIN.md: who uses it).
# Administrators may sit in any organization: the exchange operator, 科技厅 or a sub-centre.
ROLE_ORGANIZATION_KINDS: dict[Role, frozenset[OrganizationKind]] = {
    Role.admin: frozenset(OrganizationKind),
    Role.member: frozenset(
        {
            OrganizationKind.university,
            OrganizationKind.research_institute,
            OrganizationKind.enterprise,
            OrganizationKind.agency,
        }
    ),
    Role.tech_manager: frozenset(
        {OrganizationKind.agency, OrganizationKind.university, OrganizationKind.research_institute}
    ),
    Role.registration_officer: frozenset({OrganizationKind.registration_office}),
}


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    # VARCHAR + CHECK rather than a native PG enum: adding a value stays a one-line migration.
    return Enum(
        enum_class, name=name, native_enum=False, create_constraint=True, length=32, validate_strings=True
    )


class Organization(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "organizations"

    kind: Mapped[OrganizationKind] = mapped_column(_enum(OrganizationKind, "organization_kind"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    # 登记点编号: a registration office's two-digit number inside its city (part of contract numbers).
    registration_point: Mapped[str | None] = mapped_column(String(2))
    verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )


# Contract numbers carry province, city and point (app/contracts/numbering.py): two offices of one
# city with the same point would be handed the same numbers.
Index(
    "uq_organizations_city_registration_point",
    func.left(Organization.region_code, 4),
    Organization.registration_point,
    unique=True,
    postgresql_where=Organization.registration_point.is_not(None),
)


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    # Stored lower-cased (schemas normalise it), so a plain unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(100), server_default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship(lazy="raise", foreign_keys=[organization_id])


class LoginThrottle(Base):
    """Sign-in attempts counted per e-mail, registered or not, so that a lockout tells nothing about
    which e-mails have accounts. Keyed by the SHA-256 of the lower-cased e-mail: the typed address
    is any text, of any length, often someone's mistyped real one."""

    __tablename__ = "login_throttles"

    email_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Attempts counted since the last success, each before its password was checked.
    attempts: Mapped[int] = mapped_column(Integer)
    # The row counts until then: the last attempt plus the lockout, or the end of the lockout.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuthSession(UUIDPrimaryKey, Base):
    """One sign-in on one device; its refresh tokens rotate, and revoking it ends its access tokens too."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
