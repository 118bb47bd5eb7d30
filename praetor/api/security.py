"""Authentication: bearer tokens for users and run-scoped tokens for executors."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Depends, Request
from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import select

from praetor.api.errors import ApiError
from praetor.domain.user import User
from praetor.infra.bootstrap import Container
from praetor.infra.tokens import RUN_SCOPE, USER_SCOPE, InvalidToken, TokenClaims
from praetor.projections import tables

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    username: str
    is_superuser: bool
    password_hash: str = field(default="", repr=False)


def get_container(request: Request) -> Container:
    return request.app.state.container


def find_user(container: Container, username: str) -> Principal | None:
    """Return the user's principal, with its password hash, or None when there is no such user.

    The read model is asked first. A user it does not include yet is looked up in the event
    store by the id its name derives, because in the distributed mode the read model of a
    fresh installation can lag behind its first sign-in.
    """
    with container.sessions() as session:
        row = session.scalar(select(tables.User).where(tables.User.username == username))
    if row is not None:
        return Principal(username=row.username, is_superuser=row.is_superuser, password_hash=row.password_hash)
    try:
        user = container.app.repository.get(User.create_id(username))
    except AggregateNotFoundError:
        return None
    if not isinstance(user, User) or user.deleted:
        return None
    return Principal(username=user.username, is_superuser=user.is_superuser, password_hash=user.password_hash)


def _claims(request: Request, container: Container) -> TokenClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "authentication required; send 'Authorization: Bearer <token>' from POST /api/v1/auth/token", UNAUTHORIZED_HEADERS
        )
    try:
        return container.signer.verify(token.strip())
    except InvalidToken as error:
        raise ApiError(401, f"invalid token ({error}); request a new one from POST /api/v1/auth/token", UNAUTHORIZED_HEADERS) from error


def current_user(request: Request, container: Container = Depends(get_container)) -> Principal:
    claims = _claims(request, container)
    if claims.scope != USER_SCOPE:
        raise ApiError(403, "this token is scoped to one run and cannot use /api/v1; sign in as a user")
    user = find_user(container, claims.subject)
    if user is None:
        raise ApiError(401, f"user {claims.subject!r} no longer exists; sign in again", UNAUTHORIZED_HEADERS)
    return user


def run_token(run_id: str, request: Request, container: Container = Depends(get_container)) -> TokenClaims:
    """Accept only a token scoped to the run named in the path."""
    claims = _claims(request, container)
    if claims.scope != RUN_SCOPE or claims.run_id != run_id:
        raise ApiError(403, f"this token is not scoped to run {run_id}; use the token issued for that run")
    return claims
