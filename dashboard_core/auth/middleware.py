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
    ) -> None:
        self.app = app
        self.auth = auth
        self.sessions = sessions
        self.enabled = bool(auth.users or auth.tokens)
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
        if scope["type"] == "http":
            size = headers.get("content-length", "")
            if size.isdigit() and int(size) > self.auth.max_body_bytes:
                await _json(send, 413, f"The request body is larger than {self.auth.max_body_bytes:,} bytes.")
                return
            receive = _capped(receive, self.auth.max_body_bytes)
            path = scope.get("path", "")
            if path in (LOGIN, LOGOUT):
                await self._login(scope, receive, send, headers)
                return
        if scope.get("path") in PUBLIC:
            await self.app(scope, receive, send)
            return
        principal = self._principal(headers) if self.enabled else OPEN
        if principal is None:
            await self._unauthenticated(scope, send, headers)
            return
        if principal.role == "agent" and not (
            scope["type"] == "http" and scope.get("method") == "POST" and HEARTBEAT.match(scope.get("path", ""))
        ):
            await self._refuse(scope, send, 403, "An agent token may only send heartbeats.")
            return
        scope[PRINCIPAL] = principal
        await self.app(scope, receive, send)

    # -- who is it ---------------------------------------------------------------------
    def _principal(self, headers: dict[str, str]) -> Principal | None:
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return check_token(self.auth, authorization[7:].strip())
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header: as if there were none
            return None
        morsel = cookie.get(COOKIE)
        return self.sessions.read(morsel.value if morsel else None)

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
            if who is not None:
                audit(who, "logout", "", client)
            await _redirect(send, LOGIN, cookie=f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
            return
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        target = _safe_next(query.get("next", ["/"])[0])
        if not self.enabled:
            await _redirect(send, target)
            return
        if method != "POST":
            error = query.get("error", [""])[0]
            await _html(send, 200, login_html(target, error))
            return
        form = parse_qs((await _read_body(receive)).decode(errors="replace"))
        name = form.get("name", [""])[0][:200]
        password = form.get("password", [""])[0][:1000]
        target = _safe_next(form.get("next", [target])[0])
        keys = (f"address:{client}", f"name:{name}")
        wait = self.failed.blocked_for(*keys)
        if wait > 0:
            audit(Principal(name or "?", "unknown", "user"), "login refused (too many failures)", "", client)
            await _html(send, 429, login_html(target, f"Too many failed logins: try again in {wait:.0f} s."),
                        extra=[(b"retry-after", str(int(wait) + 1).encode())])  # fmt: skip
            return
        principal = check_password(self.auth, name, password)
        if principal is None:
            self.failed.failed(*keys)
            audit(Principal(name or "?", "unknown", "user"), "failed login", "", client)
            await _html(send, 401, login_html(target, "That name and password do not match."))
            return
        self.failed.succeeded(*keys)
        audit(principal, "login", "", client)
        cookie = (
            f"{COOKIE}={self.sessions.issue(principal)}; Path=/; Max-Age={self.sessions.max_age}; HttpOnly; SameSite=Lax"
        )
        await _redirect(send, target, cookie=cookie)

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


def _capped(receive: Receive, limit: int) -> Receive:
    """Bodies sent in chunks are counted as they come; past the limit the app sees a disconnect."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return wrapped


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


async def _redirect(send: Send, location: str, cookie: str | None = None) -> None:
    extra = [(b"location", location.encode())]
    if cookie:
        extra.append((b"set-cookie", cookie.encode()))
    await _respond(send, 303, b"", b"text/plain", extra)
