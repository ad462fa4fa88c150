"""Login sessions as signed cookies (itsdangerous): nothing to store on the
server, and a restarted dashboard keeps everyone logged in. The key is a
random file in the data folder, readable by its owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard_core.auth.principals import Principal
from dashboard_core.config import AuthConfig

COOKIE = "dashboard_session"


def load_secret(path: Path) -> bytes:
    """The signing key at ``path``, created (mode 0600) on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class Sessions:
    def __init__(self, auth: AuthConfig, secret: bytes) -> None:
        self.auth = auth
        self.max_age = int(auth.session_hours * 3600)
        self._signer = URLSafeTimedSerializer(secret, salt="dashboard-session")

    def issue(self, principal: Principal) -> str:
        return self._signer.dumps({"name": principal.name})

    def read(self, cookie: str | None) -> Principal | None:
        """The user a session cookie belongs to, if it is genuine, fresh, and the
        user still exists (their role comes from today's config, not the cookie)."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        user = next((u for u in self.auth.users if u.name == data.get("name")), None)
        return Principal(user.name, user.role, "user") if user else None


_BY_CONFIG: dict[int, Sessions] = {}


def sessions_for(config: object) -> Sessions:
    """The Sessions of a config (one per config object), reading the same key
    file as the middleware: pages read the cookie the login page set."""
    from dashboard_core.config import Config

    assert isinstance(config, Config)
    found = _BY_CONFIG.get(id(config))
    if found is None or found.auth is not config.auth:
        found = _BY_CONFIG[id(config)] = Sessions(config.auth, load_secret(config.data_dir / "secret.key"))
    return found
