"""A tiny, real OpenID Connect provider for tests, on a free loopback port.

It speaks the authorization-code flow the way Streamlit's ``st.login`` (Authlib) uses it:

- ``GET /.well-known/openid-configuration``: the discovery document;
- ``GET /authorize``: no login form, it approves ``provider.user`` at once and redirects to
  the client's ``redirect_uri`` with a one-time code and the given ``state`` (it keeps the
  ``nonce`` and the PKCE challenge for the token request);
- ``POST /token``: checks the client (HTTP Basic or form), the code, the redirect URI and
  the PKCE verifier, and answers an access token and an RS256-signed id_token
  (signed with joserfc, which Authlib brings);
- ``GET /jwks``: the public key.

Use it as a context manager; ``requests`` records what it was asked, for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass(frozen=True)
class User:
    sub: str
    email: str
    name: str
    email_verified: bool = True


@dataclass
class _Grant:
    user: User
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    issued: float = field(default_factory=time.monotonic)


class Provider:
    def __init__(self, client_id: str = "dashboard", client_secret: str | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
        self.user: User | None = None  # whom /authorize approves
        self.requests: list[str] = []  # "GET /authorize", "POST /token", ...
        self.issued: list[dict[str, Any]] = []  # the id_token claims handed out
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    # -- the protocol ----------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}, {"error": "invalid_request"}
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri.startswith("http://127.0.0.1:") or not redirect_uri.endswith("/oauth2callback"):
            return 400, {}, {"error": "invalid_request", "error_description": "unregistered redirect_uri"}
        if "openid" not in query.get("scope", "").split():
            return 400, {}, {"error": "invalid_scope"}
        if self.user is None:
            params = {"error": "access_denied", "state": query.get("state", "")}
            return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, None
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return 400, {}, {"error": "invalid_request", "error_description": "S256 only"}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                self.user, self.client_id, redirect_uri, query.get("nonce"), query.get("code_challenge")
            )
        params = {"code": code, "state": query.get("state", "")}
        return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, None

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, str], Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {}, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {}, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # one use only
        if grant is None or time.monotonic() - grant.issued > 60 or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {}, {"error": "invalid_grant"}
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant.challenge:
                return 400, {}, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.user.sub,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 300,
            "email": grant.user.email,
            "email_verified": grant.user.email_verified,
            "name": grant.user.name,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        self.issued.append(claims)
        body = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        return 200, {"Cache-Control": "no-store"}, body

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # -- HTTP ------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                provider.requests.append(f"GET {parts.path}")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    self._answer(200, {}, provider.metadata())
                elif parts.path == "/jwks":
                    self._answer(200, {}, provider.jwks())
                elif parts.path == "/authorize":
                    self._answer(*provider.authorize(query))
                else:
                    self._answer(404, {}, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                provider.requests.append(f"POST {parts.path}")
                size = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(size).decode()).items()}
                if parts.path == "/token":
                    self._answer(*provider.token(form, self.headers.get("Authorization", "")))
                else:
                    self._answer(404, {}, {"error": "not_found"})

            def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
