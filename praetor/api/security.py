"""Authentication: bearer tokens for users and run-scoped tokens for executors."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy import select

from praetor.api.errors import ApiError
from praetor.infra.bootstrap import Container
from praetor.infra.tokens import RUN_SCOPE, USER_SCOPE, InvalidToken, TokenClaims
from praetor.projections import tables

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    username: str
    is_superuser: bool


def get_container(request: Request) -> Container:
    return request.app.state.container


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
    with container.sessions() as session:
        user = session.scalar(select(tables.User).where(tables.User.username == claims.subject))
    if user is None:
        raise ApiError(401, f"user {claims.subject!r} no longer exists; sign in again", UNAUTHORIZED_HEADERS)
    return Principal(username=user.username, is_superuser=user.is_superuser)


def run_token(run_id: str, request: Request, container: Container = Depends(get_container)) -> TokenClaims:
    """Accept only a token scoped to the run named in the path."""
    claims = _claims(request, container)
    if claims.scope != RUN_SCOPE or claims.run_id != run_id:
        raise ApiError(403, f"this token is not scoped to run {run_id}; use the token issued for that run")
    return claims
