"""Sign-in and liveness: `POST /auth/token`, `GET /ping`, `GET /me`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends
from praetor.api.errors import ApiError
from praetor.api.schemas import TokenRequest
from praetor.api.security import Principal, current_user, find_user, get_container
from praetor.infra.bootstrap import Container
from praetor.infra.passwords import verify_password

logger = logging.getLogger(__name__)

router = APIRouter(tags=["auth"])


@router.get("/ping", summary="Check that the API is up; needs no token")
def ping() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/auth/token", summary="Exchange a username and password for a bearer token")
def issue_token(body: TokenRequest, container: Container = Depends(get_container)) -> dict[str, Any]:
    user = find_user(container, body.username)
    if user is None or not verify_password(body.password, user.password_hash):
        logger.warning("Failed sign-in for user %r", body.username)
        raise ApiError(401, "invalid username or password", {"WWW-Authenticate": "Bearer"})
    return {"token": container.signer.issue_user_token(user.username), "token_type": "bearer"}


@router.get("/me", summary="The signed-in user")
def me(user: Principal = Depends(current_user)) -> dict[str, Any]:
    return {"username": user.username, "is_superuser": user.is_superuser}
