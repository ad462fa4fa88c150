"""Requests that act must come from the dashboard's own pages (CSRF, cross-site websockets).

A page on another port of the same host, or on a sibling sub-domain, is "same-site": a
``SameSite=Lax`` cookie goes along with its form posts and its websockets. So every
request that could act (any method but GET, HEAD and OPTIONS) and every websocket
handshake is checked where it comes from: its ``Origin``, else the origin of its
``Referer``, must be this server's own (the scheme and ``Host`` it was asked for, a Host
that ``server.allowedHosts`` lets through) or one of ``server.corsAllowedOrigins``.

Browsers send ``Origin`` on every cross-origin post and every websocket handshake. A
request that names no origin at all is let through only if no cookie vouches for it
(a script on this machine without authentication, or one with an API token, which a
browser never adds by itself): a request authenticated by a session cookie must say
where it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    message: str = ""


def acts(scope_type: str, method: str) -> bool:
    """Whether a request needs the check: a websocket handshake, or a method that changes things."""
    return scope_type == "websocket" or method.upper() not in SAFE_METHODS


def check_origin(
    headers: dict[str, str], scheme: str, *, cookie_authenticated: bool, trusted: Iterable[str] = ()
) -> Verdict:
    """Whether a request that acts may come from where it says it comes from."""
    claimed = headers.get("origin") or _origin_of(headers.get("referer", ""))
    if not claimed:
        if cookie_authenticated:
            return Verdict(
                False,
                "This request carries a login cookie but no Origin or Referer header, so it cannot be told from a "
                "forged one. Use the dashboard's pages, or call the API with a token (Authorization: Bearer).",
            )
        return Verdict(True)
    origin = _normal(claimed)
    own = _normal(f"{_http_scheme(scheme)}://{headers.get('host', '')}")
    if origin is not None and (origin == own or origin in {_normal(t) for t in trusted}):
        return Verdict(True)
    return Verdict(
        False,
        f"This request comes from another site ({claimed[:100]}); the dashboard acts only on requests from its own "
        "pages. Scripts call the API with a token (Authorization: Bearer); a reverse proxy passes the Host "
        "header on, or its address goes in server.corsAllowedOrigins.",
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _http_scheme(scheme: str) -> str:
    return {"ws": "http", "wss": "https"}.get(scheme, scheme)


def _normal(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None for
    ``null`` (a sandboxed or privacy-stripped origin) and anything unreadable."""
    parts = urlsplit(origin.strip().lower())
    if not parts.scheme or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:  # a port that is not a number
        return None
    return parts.scheme, parts.hostname, port
