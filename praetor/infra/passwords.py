"""Password hashing with scrypt from the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: 2**14 iterations, block size 8, parallelism 1 (the values RFC 7914 suggests
# for interactive logins).
N, R, P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P)
    return f"scrypt${N}${R}${P}${_encode(salt)}${_encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=_decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, _decode(digest))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
