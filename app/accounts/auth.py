"""Who is calling: bearer-token dependencies and the role requirements routes declare."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.models import Role, User
from app.core.db import SessionDep
from app.core.errors import NotPermitted, Unauthenticated
from app.core.security import AccessClaims, decode_access_token

_TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 — a route, not a secret
_bearer = OAuth2PasswordBearer(tokenUrl=_TOKEN_URL, auto_error=False)

_INVALID_TOKEN = Unauthenticated(
    code="invalid_token",
    message_en="The access token is invalid or expired.",
    message_zh="访问令牌无效或已过期。",
)


@dataclass(frozen=True)
class Principal:
    user: User
    claims: AccessClaims


async def _load_principal(request: Request, session: AsyncSession, token: str) -> Principal:
    claims = decode_access_token(token, secret=request.app.state.settings.secret_key.get_secret_value())
    if claims is None:
        raise _INVALID_TOKEN
    user = await repository.get_user_in_live_session(session, claims.user_id, claims.session_id)
    if user is None:
        raise _INVALID_TOKEN
    return Principal(user=user, claims=claims)


async def _optional_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal | None:
    return None if token is None else await _load_principal(request, session, token)


async def _principal(principal: Annotated[Principal | None, Depends(_optional_principal)]) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


async def _current_user(principal: Annotated[Principal, Depends(_principal)]) -> User:
    return principal.user


class _OptionalReader(OAuth2PasswordBearer):
    """The caller of a read-only route. An anonymous read, the commonest request of the exchange,
    costs no session at all; a signed-in caller is loaded in a short session of its own and comes
    back detached, with its organization loaded. The bearer scheme itself rather than a dependency
    on it: each level of dependencies is solved again on every request (docs/benchmarks.md)."""

    async def __call__(self, request: Request) -> User | None:  # type: ignore[override]
        token = await super().__call__(request)
        if token is None:
            return None
        async with request.app.state.database.sessionmaker() as session:
            return (await _load_principal(request, session, token)).user


OptionalPrincipal = Annotated[Principal | None, Depends(_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentUser = Annotated[User, Depends(_current_user)]
# For read-only routes only: the user is not attached to the request's unit of work. The same
# scheme name as `_bearer`, so OpenAPI documents one scheme for every route.
optional_reader = _OptionalReader(tokenUrl=_TOKEN_URL, scheme_name=_bearer.scheme_name, auto_error=False)
OptionalUser = Annotated[User | None, Depends(optional_reader)]
# What `OptionalUser` adds to a route's OpenAPI operation, for a route that calls `optional_reader`
# itself instead of declaring the dependency.
OPTIONAL_READER_SECURITY = {"security": [{_bearer.scheme_name: []}]}


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that admits only users holding one of `roles` (401 anonymous, 403 otherwise)."""

    async def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise NotPermitted(
                code="role_required",
                message_en=f"This requires the role {' or '.join(roles)}.",
                message_zh=f"需要以下角色：{'、'.join(r.label for r in roles)}。",
            )
        return user

    return dependency


AdminUser = Annotated[User, Depends(require_role(Role.admin))]
