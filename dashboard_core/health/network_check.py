"""Network checks: http (one request, its status and an optional JSON field) and tcp (a
connection opens). Both explain a failed connection the same way, from the OS error at
the root of the chain, so they live together.

- http: no redirects followed, no proxies from the environment; a url starting with
  ``/`` is on this dashboard (``base_url``). At most :data:`MAX_BODY_BYTES` of the
  answer are read for its JSON field.
- tcp: a connection opens, and is closed at once.
"""

from __future__ import annotations

import asyncio
import errno
import json
import math
import re
import socket
from contextlib import suppress
from typing import Any

import httpx2 as httpx

from dashboard_core.config import HttpCheck, TcpCheck

MAX_BODY_BYTES = 1_000_000  # of an HTTP answer read for its JSON field


async def check_http(
    check: HttpCheck, base_url: str | None, client: httpx.AsyncClient, timeout: float
) -> tuple[bool, str]:
    """``(ok, message)`` of one request; ``timeout`` bounds it (the caller bounds the whole check)."""
    url = check.url
    if url.startswith("/"):
        if not base_url:
            return False, f"the url {url} is a path on this dashboard, but the dashboard's own address is not known"
        url = base_url.rstrip("/") + url
    what = f"{check.method} {url}"
    try:
        async with client.stream(check.method, url, timeout=timeout) as response:
            status = response.status_code
            if status != check.expect_status:
                return False, f"{what} answered {status}, expected {check.expect_status}"
            if not check.json_field:
                return True, f"{what} answered {status}"
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    return False, f"{what} answered more than {MAX_BODY_BYTES:,} bytes; too big to read as JSON"
    except httpx.TimeoutException:
        return False, f"timed out after {timeout:g} s"
    except httpx.InvalidURL as exc:
        return False, f"the url {url} is not valid: {exc}"
    except httpx.HTTPError as exc:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return False, connect_failure(exc, parsed.host, port, what)
    try:
        document = json.loads(bytes(body))
    except ValueError:
        return False, f"{what} answered {status}, but not with JSON"
    found, value = json_lookup(document, check.json_field)
    expected = check.json_value
    if not found:
        tail = f", expected {show_json(expected)}" if expected is not None else ""
        return False, f"json field {check.json_field} is missing{tail}"
    if expected is None:
        if value is None:
            return False, f"json field {check.json_field} is null"
        return True, f"{what} answered {status}; json field {check.json_field} is {show_json(value)}"
    if not json_equal(value, expected):
        return False, f"json field {check.json_field} is {show_json(value)}, expected {show_json(expected)}"
    return True, f"{what} answered {status}; json field {check.json_field} is {show_json(value)}"


def json_lookup(document: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` of a dotted path; a number picks an item of a list."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and re.fullmatch(r"-?\d+", part) and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def json_equal(actual: Any, expected: str | int | float | bool | None) -> bool:
    """A JSON value against the configured one: ``true == True``, ``1 == 1.0``,
    and a number or boolean also equals its spelling as a string ("1", "true")."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        if isinstance(actual, bool) and isinstance(expected, bool):
            return actual == expected
        flag, other = (actual, expected) if isinstance(actual, bool) else (expected, actual)
        return isinstance(other, str) and other.strip().lower() == ("true" if flag else "false")
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    number, text = (actual, expected) if isinstance(actual, int | float) else (expected, actual)
    if isinstance(number, int | float) and isinstance(text, str):
        try:
            parsed = float(text)
        except ValueError:
            return False
        return math.isfinite(parsed) and parsed == number
    return False


def show_json(value: Any) -> str:
    """A JSON value in a message: strings quoted, the rest as JSON (true, null, 1.5)."""
    if isinstance(value, str):
        return repr(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


async def check_tcp(check: TcpCheck) -> tuple[bool, str]:
    """``(ok, message)``: a connection to the host and port opens (and is closed at once)."""
    where = host_port(check.host, check.port)
    try:
        _reader, writer = await asyncio.open_connection(check.host, check.port)
    except OSError as exc:
        return False, connect_failure(exc, check.host, check.port, f"TCP {where}")
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return True, f"connected to {where}"


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connect_failure(exc: BaseException, host: str, port: int, what: str) -> str:
    """A connection error in words, from the OS error at the root of the chain."""
    where = host_port(host, port)
    root: BaseException | None = exc
    os_error: OSError | None = None
    seen = 0
    while root is not None and seen < 20:
        if isinstance(root, OSError) and (root.errno is not None or isinstance(root, socket.gaierror)):
            os_error = root
        root = root.__cause__ or root.__context__
        seen += 1
    text = str(exc) or type(exc).__name__
    if isinstance(os_error, socket.gaierror):
        return f"cannot resolve the host name {host}: {os_error.strerror or os_error}"
    if (os_error is not None and os_error.errno == errno.ECONNREFUSED) or "Connection refused" in text:
        return f"connection refused by {where}"
    if os_error is not None:
        return f"cannot connect to {where}: {os_error.strerror or os_error}"
    return f"{what} failed: {text}"
