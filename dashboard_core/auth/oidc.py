"""Log in with an OpenID Connect provider, through Streamlit's own ``st.login`` machinery.

Streamlit 1.67 does the protocol (``streamlit/web/server/starlette/starlette_auth_routes.py``):
``GET /auth/login?provider=<token signed with cookie_secret>`` sends the browser to the
provider (state, nonce and PKCE kept in Streamlit's session cookie); ``GET /oauth2callback``
exchanges the code with Authlib, checks the id_token against the provider's keys, sets the
identity cookie ``_streamlit_user`` (the id_token's claims as JSON, signed with itsdangerous
under ``[auth] cookie_secret``) and redirects to ``/``; each websocket connect fills
``st.user`` from that cookie.

This module is the dashboard's side of it, used by :class:`AuthMiddleware`:

- :func:`streamlit_secrets` builds the ``[auth]`` secrets passed to ``st.App(secrets=...)``,
  so no ``secrets.toml`` is needed;
- :class:`OidcGate` answers ``/auth/oidc`` (the "Log in with …" link: a fresh provider
  token, then Streamlit's ``/auth/login``), lets Streamlit's login redirect and callback
  through unauthenticated (auditing the login and sending the person back where they were
  going, or refusing someone without a role before their cookie is set), and turns the
  identity cookie into a :class:`Principal` whose role comes from ``auth.oidc.roles`` /
  ``default_role`` in today's config;
- :func:`role_for` is that mapping, shared with the pages (which read ``st.user``).

It never imports streamlit: decoding the cookie (with Streamlit's own functions) and making
the login URL are callables injected from ``ui/oidc.py`` by ``streamlit_app.py``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from dashboard_core.auth.asgi import ASGIApp, Message, Receive, Scope, Send, json_error, local_path, respond
from dashboard_core.auth.audit import audit
from dashboard_core.auth.principals import Principal
from dashboard_core.auth.secret_key import data_key
from dashboard_core.config import Config, ConfigError, OidcConfig
from dashboard_core.events import EventLog
from dashboard_core.printable import printable

# Streamlit's cookie names (streamlit/web/server/starlette/starlette_server_config.py); a test
# checks they still agree. Large values are split into "<name>_1", "<name>_2", ...
USER_COOKIE, TOKENS_COOKIE = "_streamlit_user", "_streamlit_user_tokens"
NEXT_COOKIE = "dashboard_oidc_next"  # where to go after the provider sent the person back
START = "/auth/oidc"  # our "Log in with …" link
STREAMLIT_LOGIN = "/auth/login"  # Streamlit's, when called with ?provider=<token>; else our password form
CALLBACK = "/oauth2callback"  # Streamlit's, fixed by its routes
WILDCARDS = {"", "0.0.0.0", "::"}

# What ui/oidc.py provides: the claims in a genuine identity cookie no older than max_age
# seconds (or None), and a fresh ``/auth/login?provider=<token>`` URL.
ReadIdentity = Callable[[Mapping[str, str], float], "dict[str, Any] | None"]
LoginUrl = Callable[[], str]


def role_for(oidc: OidcConfig, claims: Mapping[str, Any]) -> str | None:
    """The role of whoever these id_token claims describe: their subject, else their email
    (if the provider did not say it is unverified), else their email's ``@domain``, else
    ``default_role`` (None: they have no role and are refused)."""
    sub = str(claims.get("sub") or "")
    if sub and sub in oidc.roles:
        return oidc.roles[sub]
    email = str(claims.get("email") or "").strip().lower()
    verified = str(claims.get("email_verified", True)).lower() != "false"
    if email and verified:
        if email in oidc.roles:
            return oidc.roles[email]
        domain = "@" + email.rpartition("@")[2]
        if domain in oidc.roles:
            return oidc.roles[domain]
    return oidc.default_role


def display_name(claims: Mapping[str, Any]) -> str:
    """How a signed-in person is named in the sidebar and the audit log (emails in lower case)."""
    email = str(claims.get("email") or "").strip().lower()
    return printable(email or str(claims.get("sub") or "?"))


def refusal_sentence(name: str, label: str) -> str:
    return (
        f"{name} signed in with {label}, but has no role on this dashboard. "
        "Ask an admin to add them to auth.oidc.roles, or log in as someone else."
    )


def redirect_uri(oidc: OidcConfig, address: str | None, port: int) -> str:
    """``auth.oidc.redirect_uri``, else this server's own loopback/host address."""
    if oidc.redirect_uri:
        return oidc.redirect_uri
    host = (address or "").strip()
    if host in WILDCARDS:
        raise ConfigError(
            f"auth.oidc.redirect_uri is needed: the server listens on {host or 'every interface'!r}, so the "
            "address people open cannot be guessed. Set it to http(s)://<that address>/oauth2callback "
            "(and register the same URI at the provider)."
        )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}{CALLBACK}"


def cookie_secret(config: Config) -> str:
    """``auth.oidc.cookie_secret``, else a key derived from ``data/secret.key`` (never that key itself)."""
    assert config.auth.oidc is not None
    if config.auth.oidc.cookie_secret:
        return config.auth.oidc.cookie_secret
    key = data_key(config.data_dir)
    return hmac.new(key, b"streamlit identity cookie", hashlib.sha256).hexdigest()


def streamlit_secrets(config: Config, address: str | None, port: int) -> dict[str, Any] | None:
    """The ``[auth]`` section for ``st.App(secrets=...)`` (None without ``[auth.oidc]``)."""
    oidc = config.auth.oidc
    if oidc is None:
        return None
    return {
        "auth": {
            "redirect_uri": redirect_uri(oidc, address, port),
            "cookie_secret": cookie_secret(config),
            "client_id": oidc.client_id,
            "client_secret": oidc.client_secret or "",
            "server_metadata_url": oidc.server_metadata_url,
        }
    }


@dataclass(frozen=True, slots=True)
class Refused:
    """Someone the provider vouched for, but whom the config gives no role."""

    name: str
    message: str


class OidcGate:
    def __init__(
        self,
        oidc: OidcConfig,
        *,
        redirect_uri: str,
        max_age_seconds: float,
        read_identity: ReadIdentity,
        login_url: LoginUrl,
    ) -> None:
        self.oidc = oidc
        parts = urlsplit(redirect_uri)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.max_age = max_age_seconds
        self.read_identity = read_identity
        self.login_url = login_url
        self.events: Callable[[], EventLog | None] = lambda: None  # the audit log: set by the middleware

    # -- who is it ---------------------------------------------------------------------
    def identify(self, cookies: Mapping[str, str]) -> Principal | Refused | None:
        """The person Streamlit's identity cookie names (None: no genuine, fresh cookie)."""
        if USER_COOKIE not in cookies:
            return None
        try:
            claims = self.read_identity(cookies, self.max_age)
        except Exception:  # a cookie we cannot read is no cookie
            return None
        if not claims or claims.get("is_logged_in") is not True or claims.get("origin") != self.origin:
            return None
        name = display_name(claims)
        role = role_for(self.oidc, claims)
        if role is None:
            return Refused(name, refusal_sentence(name, self.oidc.label))
        return Principal(name, role, "user")

    def link(self, next_path: str) -> tuple[str, str]:
        """The login page's "Log in with <label>" link."""
        return f"Log in with {self.oidc.label}", f"{START}?next={quote(next_path, safe='')}"

    def clearing_cookies(self, cookies: Mapping[str, str]) -> list[str]:
        """Set-Cookie values that delete Streamlit's identity cookies (and their chunks)."""
        names = [n for n in cookies if n in (USER_COOKIE, TOKENS_COOKIE) or _is_chunk(n)]
        return [f"{n}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" for n in names]

    # -- the routes ----------------------------------------------------------------------
    async def route(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, cookies: Mapping[str, str]) -> bool:
        """Answer (or pass to Streamlit) the OIDC routes; False for any other request."""
        path, method = scope.get("path", ""), scope.get("method", "GET")
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        if method not in ("GET", "HEAD"):
            return False
        if path == START:
            await self._start(send, local_path(query.get("next", ["/"])[0]))
            return True
        if path == STREAMLIT_LOGIN and "provider" in query:
            await app(scope, receive, send)  # Streamlit checks the token and redirects to the provider
            return True
        if path == CALLBACK:
            await app(scope, receive, self._callback_send(scope, send, cookies))
            return True
        return False

    async def _start(self, send: Send, target: str) -> None:
        try:
            url = self.login_url()
        except Exception as exc:
            await _page(send, 500, f"Log in with {self.oidc.label} is not available: {exc}")
            return
        next_cookie = f"{NEXT_COOKIE}={quote(target, safe='')}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
        await respond(
            send, 303, b"", b"text/plain", [(b"location", url.encode()), (b"set-cookie", next_cookie.encode())]
        )

    def _callback_send(self, scope: Scope, send: Send, cookies: Mapping[str, str]) -> Send:
        """Streamlit's callback answer, checked on its way out: the new identity cookie is
        audited and mapped to a role; someone without one gets a 403 and no cookie."""
        target = local_path(unquote(cookies.get(NEXT_COOKIE, "/")))
        client = (scope.get("client") or ("?",))[0]
        replaced = False

        async def wrapped(message: Message) -> None:
            nonlocal replaced
            if message["type"] != "http.response.start":
                if not replaced:
                    await send(message)
                return
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"location"]
            set_now = _set_cookies(headers)
            who = self.identify(set_now)
            forget_next = (b"set-cookie", f"{NEXT_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax".encode())
            if isinstance(who, Refused):
                replaced = True
                audit(
                    self.events(),
                    Principal(who.name, "unknown", "user"),
                    "refused",
                    f"(signed in with {self.oidc.label}, no role)",
                    client,
                )
                clear = [(b"set-cookie", c.encode()) for c in self.clearing_cookies(set_now)]
                await _page(send, 403, who.message, extra=[*clear, forget_next])
                return
            if who is None:  # Streamlit could not sign them in; its log says why
                error = f"Logging in with {self.oidc.label} did not work. Try again, or ask an admin to check the server log."
                location = f"/auth/login?next={quote(target, safe='')}&error={quote(error, safe='')}"
            else:
                audit(self.events(), who, "login", f"with {self.oidc.label}", client)
                location = target
            message["headers"] = [*headers, (b"location", location.encode()), forget_next]
            await send(message)

        return wrapped

    async def refuse(self, scope: Scope, send: Send, headers: Mapping[str, str], refused: Refused) -> None:
        """Someone with a genuine identity but no role: a sentence, and a way out."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "no role on this dashboard"})
        elif "text/html" in headers.get("accept", "") and not scope.get("path", "").startswith("/api/"):
            await _page(send, 403, refused.message)
        else:
            await json_error(send, 403, refused.message)


# -- helpers ---------------------------------------------------------------------------
def identity_cookie(cookies: Mapping[str, str]) -> str | None:
    """Streamlit's identity cookie as sent (its chunks joined), for ending it at logout."""
    names = sorted((n for n in cookies if n == USER_COOKIE or _is_chunk(n, USER_COOKIE)), key=_chunk_number)
    return "".join(cookies[n] for n in names) or None


def _is_chunk(name: str, *bases: str) -> bool:
    for base in bases or (USER_COOKIE, TOKENS_COOKIE):
        rest = name.removeprefix(base + "_")
        if rest != name and rest.isdigit():
            return True
    return False


def _chunk_number(name: str) -> int:
    number = name.rpartition("_")[2]
    return int(number) if number.isdigit() else 0


def _set_cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """name -> value of the cookies a response sets (deletions left out)."""
    out: dict[str, str] = {}
    for key, value in headers:
        if key.lower() != b"set-cookie":
            continue
        name, _, rest = value.decode("latin-1").partition("=")
        cookie_value = rest.split(";", 1)[0].strip().strip('"')
        if cookie_value:
            out[name.strip()] = cookie_value
    return out


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not allowed · Dashboard</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; display: grid; place-items: center; min-height: 100vh; margin: 0; }}
main {{ background: white; padding: 2rem 2.5rem; border-radius: 0.75rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); max-width: 30rem; }}
h1 {{ font-size: 1.3rem; margin: 0 0 1rem; }}
:root {{ color-scheme: light dark; }}
@media (prefers-color-scheme: dark) {{
body {{ background: #171614; color: #f0efed; }}
main {{ background: #2a2926; box-shadow: none; }}
}}
</style></head>
<body><main><h1>Dashboard</h1><p role="alert">{message}</p>
<p><a href="/auth/logout">Log in as someone else</a></p></main></body></html>
"""


async def _page(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = PAGE.format(message=escape(message)).encode()
    await respond(send, status, body, b"text/html; charset=utf-8", [(b"cache-control", b"no-store"), *(extra or [])])
