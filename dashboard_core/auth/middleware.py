"""The ASGI middleware in front of everything the server serves.

A pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` skips websockets):

- every response gets security headers (API answers also ``Cache-Control: no-store``),
  and a request for a host that is not in ``server.allowedHosts`` is refused (HTTP 400,
  websocket closed);
- request bodies larger than ``auth.max_body_bytes`` are refused with 413;
- with users or tokens configured, every request needs a principal: an API
  token (``Authorization: Bearer``) or a session cookie from the login page
  at ``/auth/login`` (``login.py``). Without one a page is redirected to the login
  page, an API call gets 401, a websocket is closed before it opens. Agent tokens may
  only reach ``POST /api/agents/{name}/heartbeat``. The two liveness probes
  (``/api/health``, ``/_stcore/health``) stay open: they say "ok" and no more;
- a request that acts (not GET, HEAD or OPTIONS) and every websocket handshake must
  come from the dashboard's own pages unless it carries an API token (``origin.py``).

The principal is left in the scope (``scope["dashboard.principal"]``) for the
API's role checks; pages read the same cookie through ``st.context.cookies``.

With ``[auth.oidc]`` an :class:`~dashboard_core.auth.oidc.OidcGate` (given by the
launcher) also answers the "Log in with …" routes and accepts Streamlit's identity
cookie; see ``oidc.py``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, quote

from dashboard_core.auth.asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    client_of,
    close_websocket,
    cookies_of,
    headers_of,
    html,
    json_error,
    local_path,
    redirect,
)
from dashboard_core.auth.audit import audit
from dashboard_core.auth.credentials import check_token
from dashboard_core.auth.login import PasswordLogin
from dashboard_core.auth.login_page import login_html
from dashboard_core.auth.oidc import OidcGate, Refused, identity_cookie
from dashboard_core.auth.origin import acts, check_origin
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.auth.sessions import COOKIE, Sessions
from dashboard_core.config import AuthConfig
from dashboard_core.events import EventLog

log = logging.getLogger(__name__)

PRINCIPAL = "dashboard.principal"
LOGIN, LOGOUT = "/auth/login", "/auth/logout"
# Liveness probes (for load balancers and the dashboard's own health check): they say "ok", nothing more.
PUBLIC = {"/api/health", "/_stcore/health"}
HEARTBEAT = re.compile(r"^/api/agents/[^/]+/heartbeat/?$")
# API answers are never kept by a browser or a proxy; the API docs' own assets and the
# pages' chart library (its version in its path) may be.
API, API_ASSETS = "/api/", ("/api/static-offline-docs/", "/api/ui/plotly-")


def is_api(path: str) -> bool:
    """Under /api/, or the bare /api (the API's index, answered without a redirect)."""
    return path.startswith(API) or path == API.rstrip("/")


# What the Streamlit front end, Plotly and the offline API docs need, and nothing more (blob: scripts:
# Streamlit imports a v2 component's inline JavaScript from a blob URL: ui/live, ui/log_view.py; only a
# script already running on this origin can make one).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; "
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
NO_STORE = (b"cache-control", b"no-store")
SessionsOf = Callable[[], Sessions | None]
EventsOf = Callable[[], EventLog | None]


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: AuthConfig,
        sessions: SessionsOf,
        events: EventsOf,
        allowed_hosts: list[str] | None = None,
        trusted_origins: list[str] | None = None,
        oidc: OidcGate | None = None,
    ) -> None:
        """``sessions`` and ``events``: the running dashboard's login sessions and event log
        (None while it starts or stops), for logins and their audit lines;
        ``trusted_origins``: pages elsewhere that may act here (``server.corsAllowedOrigins``)."""
        self.app = app
        self.auth = auth
        self.sessions = sessions
        self.events = events
        self.oidc = oidc  # [auth.oidc]: log in with a provider through Streamlit's st.login routes
        self.enabled = auth.required
        self.allowed_hosts = {h.lower() for h in (allowed_hosts or [])}
        self.trusted_origins = list(trusted_origins or [])
        self.login = PasswordLogin(auth, sessions, events, self._login_page)
        if oidc is not None:
            oidc.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)
        if not self._host_allowed(headers.get("host", "")):
            await self._refuse(scope, send, 400, "This host name is not served here (server.allowedHosts).")
            return
        path = scope.get("path", "")
        send = _with_security_headers(send, no_store=is_api(path) and not path.startswith(API_ASSETS))
        limit: _BodyLimit | None = None
        if scope["type"] == "http":
            size = headers.get("content-length", "")
            if size.isdigit() and int(size) > self.auth.max_body_bytes:
                await json_error(send, 413, f"The request body is larger than {self.auth.max_body_bytes:,} bytes.")
                return
            limit = _BodyLimit(receive, send, self.auth.max_body_bytes)
            receive, send = limit.receive, limit.send
            if self.oidc is not None and await self.oidc.route(self.app, scope, receive, send, cookies_of(headers)):
                return
            if path in (LOGIN, LOGOUT):
                await self._login(scope, receive, send, headers)
                return
        if path in PUBLIC:
            await self.app(scope, receive, send)
            if limit is not None:
                await limit.finish()
            return
        principal, by_cookie = self._principal(headers) if self.enabled else (OPEN, False)
        if principal is None:
            await self._unauthenticated(scope, send, headers)
            return
        if isinstance(principal, Refused) and self.oidc is not None:
            await self.oidc.refuse(scope, send, headers, principal)
            return
        assert isinstance(principal, Principal)
        if principal.role == "agent" and not (
            scope["type"] == "http" and scope.get("method") == "POST" and HEARTBEAT.match(path)
        ):
            await self._refuse(scope, send, 403, "An agent token may only send heartbeats.")
            return
        if principal.kind != "token" and acts(scope["type"], scope.get("method", "GET")):
            verdict = check_origin(
                headers, scope.get("scheme", "http"), cookie_authenticated=by_cookie, trusted=self.trusted_origins
            )
            if not verdict.ok:
                await self._refuse(scope, send, 403, verdict.message)
                return
        scope[PRINCIPAL] = principal
        await self.app(scope, receive, send)
        if limit is not None:
            await limit.finish()

    # -- who is it ---------------------------------------------------------------------
    def _principal(self, headers: dict[str, str]) -> tuple[Principal | Refused | None, bool]:
        """Who the request is from, and whether a cookie says so (not a token)."""
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return check_token(self.auth, authorization[7:].strip()), False
        cookies = cookies_of(headers)
        sessions = self.sessions()
        if sessions is None:  # stopping: nobody's session can be read
            return None, False
        principal: Principal | Refused | None = sessions.read(cookies.get(COOKIE))
        if principal is None and self.oidc is not None:
            identity = identity_cookie(cookies)
            if identity is not None and not sessions.identity_ended(identity):
                principal = self.oidc.identify(cookies)
        return principal, principal is not None

    def _host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.strip("[]").lower() in self.allowed_hosts

    # -- the login page ----------------------------------------------------------------
    async def _login(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        path, method = scope["path"], scope.get("method", "GET")
        if path == LOGOUT:
            await self._logout(scope, send, headers)
            return
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        target = local_path(query.get("next", ["/"])[0])
        if not self.enabled:
            await redirect(send, target)
            return
        if method != "POST":
            await html(send, 200, self._login_page(target, query.get("error", [""])[0]))
            return
        verdict = check_origin(headers, scope.get("scheme", "http"), cookie_authenticated=False,
                               trusted=self.trusted_origins)  # fmt: skip
        if not verdict.ok:  # a login posted from another site (login CSRF)
            await html(send, 403, self._login_page(target, verdict.message))
            return
        await self.login.post(scope, receive, send, target)

    async def _logout(self, scope: Scope, send: Send, headers: dict[str, str]) -> None:
        """End the session for good (every copy of its cookie), then clear the cookies."""
        cookies = cookies_of(headers)
        who, _ = self._principal(headers)
        sessions = self.sessions()
        identity = identity_cookie(cookies) if self.oidc is not None else None

        def end() -> None:
            if isinstance(who, Principal):
                audit(self.events(), who, "logout", "", client_of(scope))
            if sessions is not None:
                sessions.end(cookies.get(COOKIE))
                if identity is not None:
                    sessions.end_identity(identity)

        await asyncio.to_thread(end)  # store writes: off the event loop
        cleared = [f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"]
        if self.oidc is not None:  # Streamlit's identity cookies too (st.logout lands here)
            cleared += self.oidc.clearing_cookies(cookies)
        await redirect(send, LOGIN, *cleared)

    def _login_page(self, target: str, error: str = "") -> str:
        sso = self.oidc.link(target) if self.oidc is not None else None
        return login_html(target, error, sso=sso, passwords=bool(self.auth.users) or sso is None)

    async def _unauthenticated(self, scope: Scope, send: Send, headers: dict[str, str]) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket":
            await close_websocket(send, "log in first")
            return
        wants_page = "text/html" in headers.get("accept", "") and not is_api(path)
        if wants_page and scope.get("method") in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode(errors="replace")
            here = path + (f"?{query}" if query else "")
            await redirect(send, f"{LOGIN}?next={quote(here, safe='')}")
            return
        await json_error(send, 401, "Log in, or send an API token as 'Authorization: Bearer <token>'.",
                         extra=[(b"www-authenticate", b'Bearer realm="dashboard"')])  # fmt: skip

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        if scope["type"] == "websocket":
            await close_websocket(send, message)
        else:
            await json_error(_with_security_headers(send), status, message)


def _with_security_headers(send: Send, no_store: bool = False) -> Send:
    extra = [*SECURITY_HEADERS, NO_STORE] if no_store else SECURITY_HEADERS

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
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
        await json_error(self._send, 413, f"The request body is larger than {self.limit:,} bytes.")
