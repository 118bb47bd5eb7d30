"""Signed API tokens (JWT, HS256): one kind for users, one scoped to a single run."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

USER_SCOPE = "user"
RUN_SCOPE = "run"


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    scope: str
    run_id: str | None = None


class InvalidToken(Exception):
    pass


class TokenSigner:
    def __init__(self, key: str, ttl_seconds: int) -> None:
        self._key = key
        self._ttl_seconds = ttl_seconds

    def issue_user_token(self, username: str) -> str:
        return self._issue({"sub": username, "scope": USER_SCOPE})

    def issue_run_token(self, run_id: str, ttl_seconds: int = 7 * 24 * 3600) -> str:
        return self._issue({"sub": f"run:{run_id}", "scope": RUN_SCOPE, "run_id": run_id}, ttl_seconds)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], options={"require": ["exp", "sub", "scope"]})
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return TokenClaims(subject=claims["sub"], scope=claims["scope"], run_id=claims.get("run_id"))

    def _issue(self, claims: dict[str, str], ttl_seconds: int | None = None) -> str:
        now = int(time.time())
        expires = now + (ttl_seconds if ttl_seconds is not None else self._ttl_seconds)
        return jwt.encode({**claims, "iat": now, "exp": expires}, self._key, algorithm="HS256")


def load_or_create_key(path: Path) -> str:
    """Return the signing key kept at `path`, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
