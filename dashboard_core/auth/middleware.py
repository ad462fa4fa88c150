"""The ASGI middleware in front of everything the server serves.

A pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` skips websockets):

- every response gets security headers, and a request for a host that is not
  in ``server.allowedHosts`` is refused (HTTP 400, websocket closed);
- request bodies larger than ``auth.max_body_bytes`` are refused with 413;
- with users or tokens configured, every request needs a principal: an API
  token (``Authorization: Bearer``) or a session cookie from the login page
  at ``/auth/login``. Without one a page is redirected to the login page, an
  API call gets 401, a websocket is closed before it opens. Agent tokens may
  only reach ``POST /api/agents/{name}/heartbeat``. The two liveness probes
  (``/api/health``, ``/_stcore/health``) stay open: they say "ok" and no more.

The principal is left in the scope (``scope["dashboard.principal"]``) for the
API's role checks; pages read the same cookie through ``st.context.cookies``.

With ``[auth.oidc]`` an :class:`~dashboard_core.auth.oidc.OidcGate` (given by the
launcher) also answers the "Log in with …" routes and accepts Streamlit's identity
cookie; see ``oidc.py``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from dashboard_core.auth.audit import audit
from dashboard_core.auth.credentials import check_password, check_token
from dashboard_core.auth.login_page import login_html
from dashboard_core.auth.oidc import OidcGate, Refused
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.auth.ratelimit import FailedLogins
from dashboard_core.auth.sessions import COOKIE, Sessions
from dashboard_core.config import AuthConfig

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PRINCIPAL = "dashboard.principal"
LOGIN, LOGOUT = "/auth/login", "/auth/logout"
# Liveness probes (for load balancers and the dashboard's own health check): they say "ok", nothing more.
PUBLIC = {"/api/health", "/_stcore/health"}
HEARTBEAT = re.compile(r"^/api/agents/[^/]+/heartbeat/?$")
# What the Streamlit front end, Plotly and the offline API docs need, and nothing more.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: AuthConfig,
        sessions: Sessions,
        allowed_hosts: list[str] | None = None,
        oidc: OidcGate | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.sessions = sessions
        self.oidc = oidc  # [auth.oidc]: log in with a provider through Streamlit's st.login routes
        self.enabled = auth.required
        self.allowed_hosts = {h.lower() for h in (allowed_hosts or [])}
        self.failed = FailedLogins(auth.max_failed_logins, auth.failed_login_window_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not self._host_allowed(headers.get("host", "")):
            await self._refuse(scope, send, 400, "This host name is not served here (server.allowedHosts).")
            return
        send = _with_security_headers(send)
        limit: _BodyLimit | None = None
        if scope["type"] == "http":
            size = headers.get("content-length", "")
            if size.isdigit() and int(size) > self.auth.max_body_bytes:
                await _json(send, 413, f"The request body is larger than {self.auth.max_body_bytes:,} bytes.")
                return
            limit = _BodyLimit(receive, send, self.auth.max_body_bytes)
            receive, send = limit.receive, limit.send
            path = scope.get("path", "")
            if self.oidc is not None and await self.oidc.route(self.app, scope, receive, send, _cookies(headers)):
                return
            if path in (LOGIN, LOGOUT):
                await self._login(scope, receive, send, headers)
                return
        if scope.get("path") in PUBLIC:
            await self.app(scope, receive, send)
            if limit is not None:
                await limit.finish()
            return
        principal = self._principal(headers) if self.enabled else OPEN
        if principal is None:
            await self._unauthenticated(scope, send, headers)
            return
        if isinstance(principal, Refused) and self.oidc is not None:
            await self.oidc.refuse(scope, send, headers, principal)
            return
        if principal.role == "agent" and not (
            scope["type"] == "http" and scope.get("method") == "POST" and HEARTBEAT.match(scope.get("path", ""))
        ):
            await self._refuse(scope, send, 403, "An agent token may only send heartbeats.")
            return
        scope[PRINCIPAL] = principal
        await self.app(scope, receive, send)
        if limit is not None:
            await limit.finish()

    # -- who is it ---------------------------------------------------------------------
    def _principal(self, headers: dict[str, str]) -> Principal | Refused | None:
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return check_token(self.auth, authorization[7:].strip())
        cookies = _cookies(headers)
        principal = self.sessions.read(cookies.get(COOKIE))
        if principal is None and self.oidc is not None:
            return self.oidc.identify(cookies)
        return principal

    def _host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]").lower() in self.allowed_hosts

    # -- the login page ----------------------------------------------------------------
    async def _login(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        path, method = scope["path"], scope.get("method", "GET")
        client = _client(scope)
        if path == LOGOUT:
            who = self._principal(headers)
            if isinstance(who, Principal):
                audit(who, "logout", "", client)
            cookies = [f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"]
            if self.oidc is not None:  # Streamlit's identity cookies too (st.logout lands here)
                cookies += self.oidc.clearing_cookies(_cookies(headers))
            await _redirect(send, LOGIN, *cookies)
            return
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        target = _safe_next(query.get("next", ["/"])[0])
        if not self.enabled:
            await _redirect(send, target)
            return
        if method != "POST":
            error = query.get("error", [""])[0]
            await _html(send, 200, self._login_page(target, error))
            return
        form = parse_qs((await _read_body(receive)).decode(errors="replace"))
        name = form.get("name", [""])[0][:200]
        password = form.get("password", [""])[0][:1000]
        target = _safe_next(form.get("next", [target])[0])
        keys = (f"address:{client}", f"name:{name}")
        wait = self.failed.blocked_for(*keys)
        if wait > 0:
            audit(Principal(name or "?", "unknown", "user"), "login refused (too many failures)", "", client)
            await _html(send, 429, self._login_page(target, f"Too many failed logins: try again in {wait:.0f} s."),
                        extra=[(b"retry-after", str(int(wait) + 1).encode())])  # fmt: skip
            return
        principal = check_password(self.auth, name, password)
        if principal is None:
            self.failed.failed(*keys)
            audit(Principal(name or "?", "unknown", "user"), "failed login", "", client)
            await _html(send, 401, self._login_page(target, "That name and password do not match."))
            return
        self.failed.succeeded(*keys)
        audit(principal, "login", "", client)
        cookie = (
            f"{COOKIE}={self.sessions.issue(principal)}; Path=/; Max-Age={self.sessions.max_age}; HttpOnly; SameSite=Lax"
        )
        await _redirect(send, target, cookie)

    def _login_page(self, target: str, error: str = "") -> str:
        sso = self.oidc.link(target) if self.oidc is not None else None
        return login_html(target, error, sso=sso, passwords=bool(self.auth.users) or sso is None)

    async def _unauthenticated(self, scope: Scope, send: Send, headers: dict[str, str]) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "log in first"})
            return
        wants_page = "text/html" in headers.get("accept", "") and not path.startswith("/api/")
        if wants_page and scope.get("method") in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode(errors="replace")
            here = path + (f"?{query}" if query else "")
            await _redirect(send, f"{LOGIN}?next={quote(here, safe='')}")
            return
        await _json(send, 401, "Log in, or send an API token as 'Authorization: Bearer <token>'.",
                    extra=[(b"www-authenticate", b'Bearer realm="dashboard"')])  # fmt: skip

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        else:
            await _json(_with_security_headers(send), status, message)


# -- small ASGI helpers ----------------------------------------------------------------
def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: as if there were none
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "?"


def _safe_next(target: str) -> str:
    """Only a path on this server: never another site (an open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _with_security_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            message["headers"] = [*message.get("headers", []), *(h for h in SECURITY_HEADERS if h[0] not in present)]
        await send(message)

    return wrapped


class _BodyLimit:
    """A body sent in chunks (no Content-Length) is counted as it comes. Past the
    limit the app sees a disconnect, and whatever it answers to that (FastAPI: 400,
    "error parsing the body") is replaced by the same 413 a Content-Length gets."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.seen = 0
        self.too_large = False
        self.started = False  # a response has begun (the app's, or our 413)
        self.replaced = False  # the app's answer is being dropped for the 413

    async def receive(self) -> Message:
        if self.too_large:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.too_large = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.too_large and not self.started:
            self.started = self.replaced = True
            await self._refuse()
            return
        if self.replaced:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def finish(self) -> None:
        """After the app returned: the 413, if the body was too large and nothing was sent."""
        if self.too_large and not self.started:
            self.started = self.replaced = True
            await self._refuse()

    async def _refuse(self) -> None:
        await _json(self._send, 413, f"The request body is larger than {self.limit:,} bytes.")


async def _read_body(receive: Receive, limit: int = 64 * 1024) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if len(body) > limit or not message.get("more_body"):
            return body[:limit]


async def _respond(send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"success": False, "message": message, "errors": []}).encode()
    await _respond(send, status, body, b"application/json", extra or [])


async def _html(send: Send, status: int, page: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _respond(send, status, page.encode(), b"text/html; charset=utf-8", [(b"cache-control", b"no-store"), *(extra or [])])


async def _redirect(send: Send, location: str, *cookies: str) -> None:
    extra = [(b"location", location.encode()), *((b"set-cookie", c.encode()) for c in cookies)]
    await _respond(send, 303, b"", b"text/plain", extra)
