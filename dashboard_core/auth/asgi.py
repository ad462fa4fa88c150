"""Small ASGI helpers shared by the middleware, the login form and the OIDC gate:
reading headers, cookies and bodies, and answering with JSON, HTML or a redirect."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: as if there were none
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "?"


def local_path(target: str) -> str:
    """``target`` if a browser would stay on this origin going there, else ``/``: never
    another site (an open redirect). Browsers read a backslash as a slash and drop tabs
    and line breaks, so ``/\\evil.example`` and ``/\\t/evil.example`` mean ``//evil.example``."""
    seen = "".join(c for c in target if c not in "\t\r\n").replace("\\", "/")
    parts = urlsplit(seen)
    if parts.scheme or parts.netloc or not seen.startswith("/") or seen.startswith("//"):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in seen):
        return "/"
    return seen


async def read_body(receive: Receive, limit: int = 64 * 1024) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        chunk: bytes = message.get("body", b"")  # ASGI: http.request bodies are bytes
        body += chunk
        if len(body) > limit or not message.get("more_body"):
            return body[:limit]


async def respond(send: Send, status: int, body: bytes, content_type: bytes, extra: Headers | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def json_error(send: Send, status: int, message: str, extra: Headers | None = None) -> None:
    """The API's error body (:class:`~dashboard_core.models.ErrorResponse`)."""
    body = json.dumps({"success": False, "message": message, "errors": []}).encode()
    await respond(send, status, body, b"application/json", [(b"cache-control", b"no-store"), *(extra or [])])


async def html(send: Send, status: int, page: str, extra: Headers | None = None) -> None:
    await respond(
        send, status, page.encode(), b"text/html; charset=utf-8", [(b"cache-control", b"no-store"), *(extra or [])]
    )


async def redirect(send: Send, location: str, *cookies: str) -> None:
    extra = [(b"location", location.encode()), *((b"set-cookie", c.encode()) for c in cookies)]
    await respond(send, 303, b"", b"text/plain", [(b"cache-control", b"no-store"), *extra])


async def close_websocket(send: Send, reason: str) -> None:
    """Refuse a websocket before it opens (policy violation)."""
    await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
