"""Passwords (argon2, through argon2-cffi) and API tokens (random, stored as SHA-256).

argon2 loads with the first password hashed or checked, not with the server: a
dashboard without users, or before anyone logs in, never needs it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache
from typing import TYPE_CHECKING

from dashboard_core.auth.principals import Principal
from dashboard_core.config import AuthConfig

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@cache
def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher, and a hash checked against when the name is unknown, so a wrong name
    costs as long as a wrong password (both made on the first use, whatever the name)."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    return hasher, hasher.hash("not a password anyone has")


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def new_token() -> tuple[str, str]:
    """A new API token and the SHA-256 the config keeps of it. Never one that starts with
    "-": ``--token -x...`` would read as an option on the command line."""
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):
        token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(auth: AuthConfig, name: str, password: str) -> Principal | None:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher, dummy = _hasher()
    user = next((u for u in auth.users if u.name == name), None)
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal(user.name, user.role, "user") if user else None


def check_token(auth: AuthConfig, token: str) -> Principal | None:
    digest = token_digest(token)
    for entry in auth.tokens:
        if hmac.compare_digest(entry.token_sha256, digest):
            return Principal(entry.name, entry.role, "token", agent=entry.agent)
    return None
