"""Login sessions that a logout really ends.

The cookie is signed (itsdangerous) and names a random session id; the store keeps the
SHA-256 of that id with the user's name, a mark of their password hash and the expiry.
A cookie counts only while its row exists: logout deletes the row, so a copied cookie
stops working at once, and a changed password (a new ``password_hash`` in the config)
no longer matches the mark, so every session made with the old one ends. Rows are also
held in memory: reading a cookie costs no query. A restarted dashboard reloads them,
so people stay logged in.

People who log in with an OIDC provider carry Streamlit's identity cookie instead; when
they log out, the digest of that cookie is kept until it would have expired, and the
cookie no longer counts, in any copy.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard_core.auth.credentials import token_digest
from dashboard_core.auth.principals import Principal
from dashboard_core.config import AuthConfig, UserConfig
from dashboard_core.store import Store

COOKIE = "dashboard_session"


@dataclass(frozen=True, slots=True)
class _Session:
    name: str
    password: str  # the mark of the password hash it was made with
    expires_at: float


class Sessions:
    def __init__(self, auth: AuthConfig, secret: bytes, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.auth = auth
        self.max_age = int(auth.session_hours * 3600)
        self._signer = URLSafeTimedSerializer(secret, salt="dashboard-session")
        self._secret = secret
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._live: dict[str, _Session] = {}
        self._ended: dict[str, float] = {}

    def load(self) -> None:
        """Read the sessions that have not expired from the store (at start: people stay
        logged in across a restart)."""
        now = self._clock()
        live = {
            r["id_sha256"]: _Session(r["name"], r["password"], r["expires_at"])
            for r in self._store.all("SELECT * FROM login_sessions WHERE expires_at > ?", (now,))
        }
        ended = {
            r["cookie_sha256"]: r["expires_at"]
            for r in self._store.all("SELECT * FROM ended_identities WHERE expires_at > ?", (now,))
        }
        with self._lock:
            self._live, self._ended = live, ended

    # -- password logins -----------------------------------------------------------------
    def issue(self, principal: Principal) -> str:
        """The cookie value of a new session for this user. Recorded in the store first:
        a session the store cannot keep is not given (StoreError)."""
        sid = secrets.token_urlsafe(24)
        now = self._clock()
        session = _Session(principal.name, self._mark(self._user(principal.name)), now + self.max_age)
        with self._store.transaction() as db:
            db.execute("DELETE FROM login_sessions WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT INTO login_sessions (id_sha256, name, password, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_digest(sid), session.name, session.password, now, session.expires_at),
            )
        with self._lock:
            self._live = {k: s for k, s in self._live.items() if s.expires_at > now}
            self._live[token_digest(sid)] = session
        return self._signer.dumps({"sid": sid})

    def read(self, cookie: str | None) -> Principal | None:
        """Who a session cookie belongs to, if it is genuine, its session still exists,
        and its user still exists with the same password (the role is today's config's)."""
        sid = self._sid(cookie)
        session = self._live.get(token_digest(sid)) if sid else None
        if session is None or session.expires_at <= self._clock():
            return None
        user = self._user(session.name)
        if user is None or not hmac.compare_digest(self._mark(user), session.password):
            return None
        return Principal(user.name, user.role, "user")

    def end(self, cookie: str | None) -> None:
        """Log out: the session this cookie names ends, for every copy of the cookie."""
        sid = self._sid(cookie)
        if sid is None:
            return
        digest = token_digest(sid)
        self._store.execute("DELETE FROM login_sessions WHERE id_sha256 = ?", (digest,))
        with self._lock:
            self._live.pop(digest, None)

    # -- identity cookies (OIDC) ---------------------------------------------------------
    def end_identity(self, cookie: str) -> None:
        """Someone signed in with the provider logged out: that identity cookie (``cookie``:
        its raw value, chunks joined) no longer counts, in any copy."""
        now = self._clock()
        digest, expires_at = token_digest(cookie), now + self.max_age
        with self._store.transaction() as db:
            db.execute("DELETE FROM ended_identities WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO ended_identities (cookie_sha256, expires_at) VALUES (?, ?)",
                (digest, expires_at),
            )
        with self._lock:
            self._ended = {k: t for k, t in self._ended.items() if t > now}
            self._ended[digest] = expires_at

    def identity_ended(self, cookie: str) -> bool:
        """Whether this identity cookie logged out."""
        return token_digest(cookie) in self._ended

    # -- helpers ------------------------------------------------------------------------
    def _sid(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        sid = data.get("sid") if isinstance(data, dict) else None
        return sid if isinstance(sid, str) and sid else None

    def _user(self, name: str) -> UserConfig | None:
        return next((u for u in self.auth.users if u.name == name), None)

    def _mark(self, user: UserConfig | None) -> str:
        """A keyed digest of the user's password hash: it changes when the password does."""
        if user is None:
            return ""
        return hmac.new(self._secret, user.password_hash.encode(), hashlib.sha256).hexdigest()
