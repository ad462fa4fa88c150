"""Component checks: one check of one component, in words a person can read.

:func:`run_check` does a single check (http, tcp, process, command or python)
with the component's ``timeout_seconds`` as a hard limit and returns a
:class:`CheckReport`; a failed check is a result, never an exception.

- http: one request (no redirects followed, no proxies from the environment);
  a url starting with ``/`` is on this dashboard (``base_url``).
- tcp: a connection opens, and is closed at once.
- process: enough processes match, by exact name or a regex over the command
  line (one read of the process table, in a thread), or the dashboard's own
  process runs (``match = "self"``, by pid).
- command: an argv (never a shell), a supervised process: see
  :mod:`dashboard_core.health.command_check`.
- python: ``module:function`` called in a thread of its own. A thread cannot be
  killed, so while a call is hung no other call of that component's check is
  started: the check reports the hung call instead of piling up threads.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import json
import logging
import math
import os
import re
import shlex
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import psutil
from pydantic import Field

from dashboard_core.config import (
    CommandCheck,
    ComponentConfig,
    Config,
    HttpCheck,
    ProcessCheck,
    PythonCheck,
    TcpCheck,
)
from dashboard_core.health.command_check import run_command
from dashboard_core.metrics.processes import WatchRule
from dashboard_core.metrics.procfs import default_reader
from dashboard_core.models import CheckResult, ComponentState
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.local import LocalExecutor

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # of an HTTP answer read for its JSON field
MESSAGE_CHARS = 300
LOCAL = LocalExecutor()


class CheckReport(CheckResult):
    """A :class:`CheckResult` plus the state a python check reported itself, if any."""

    reported_state: ComponentState | None = Field(
        None, description="degraded or down when a python check said so; null otherwise."
    )


def new_http_client() -> httpx.AsyncClient:
    """The client for http checks: no proxies or settings from the environment, no
    redirects followed, a fresh connection per check (nothing pooled between checks)."""
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def run_check(
    component: ComponentConfig,
    *,
    base_url: str | None,
    config: Config,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    executor: Executor | None = None,
) -> CheckReport:
    """One check of ``component``; never raises for a failed check.

    ``client`` is shared between http checks (one per monitor); without it, one is
    made for this check. ``clock`` stamps the result (when the check finished).
    ``executor`` runs command checks (the local one by default).
    """
    check = component.check
    timeout = component.timeout_seconds
    started = time.perf_counter()
    reported: ComponentState | None = None
    try:
        if isinstance(check, HttpCheck):
            if client is None:
                async with new_http_client() as own:
                    ok, message = await asyncio.wait_for(_http(check, base_url, own, timeout), timeout)
            else:
                ok, message = await asyncio.wait_for(_http(check, base_url, client, timeout), timeout)
        elif isinstance(check, TcpCheck):
            ok, message = await asyncio.wait_for(_tcp(check), timeout)
        elif isinstance(check, ProcessCheck):
            ok, message = await asyncio.wait_for(asyncio.to_thread(count_processes, check), timeout)
        elif isinstance(check, CommandCheck):
            ok, message = await run_command(check, timeout, config, executor or LOCAL)
        elif isinstance(check, PythonCheck):
            ok, reported, message = await _python(component.name, check, timeout)
        else:  # pragma: no cover - the config allows no other kind
            ok, message = False, f"unknown check type {type(check).__name__}"
    except TimeoutError:
        ok, message = False, f"timed out after {timeout:g} s"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a failed check is a result, whatever went wrong
        log.exception("The %s check of %s failed unexpectedly", check.type, component.name)
        ok, message = False, f"the check failed unexpectedly: {type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000.0
    return CheckReport(
        ok=ok,
        latency_ms=latency_ms,
        message=_clip(message),
        at=datetime.fromtimestamp(clock(), UTC),
        reported_state=reported,
    )


def describe_check(component: ComponentConfig) -> str:
    """What is checked, in words, for the component's card."""
    check = component.check
    if isinstance(check, HttpCheck):
        text = f"{check.method} {check.url} expects {check.expect_status}"
        if check.json_field:
            text += (
                f" with {check.json_field} = {_show(check.json_value)}"
                if check.json_value is not None
                else f" with a field {check.json_field}"
            )
        return text
    if isinstance(check, TcpCheck):
        return f"TCP {_host_port(check.host, check.port)}"
    if isinstance(check, ProcessCheck):
        if check.match == "self":
            return f"this dashboard's own process (pid {os.getpid()})"
        how, pattern = ("name", check.name) if check.name is not None else ("cmdline", check.cmdline)
        return f"process {how} {pattern!r} ≥ {check.min_count}"
    if isinstance(check, CommandCheck):
        return f"command {shlex.join(check.argv)}"
    if isinstance(check, PythonCheck):
        return f"python {check.callable}"
    return str(check.type)  # pragma: no cover


# -- http ----------------------------------------------------------------------------
async def _http(check: HttpCheck, base_url: str | None, client: httpx.AsyncClient, timeout: float) -> tuple[bool, str]:
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
        return False, _connect_failure(exc, parsed.host, port, what)
    try:
        document = json.loads(bytes(body))
    except ValueError:
        return False, f"{what} answered {status}, but not with JSON"
    found, value = json_lookup(document, check.json_field)
    expected = check.json_value
    if not found:
        tail = f", expected {_show(expected)}" if expected is not None else ""
        return False, f"json field {check.json_field} is missing{tail}"
    if expected is None:
        if value is None:
            return False, f"json field {check.json_field} is null"
        return True, f"{what} answered {status}; json field {check.json_field} is {_show(value)}"
    if not json_equal(value, expected):
        return False, f"json field {check.json_field} is {_show(value)}, expected {_show(expected)}"
    return True, f"{what} answered {status}; json field {check.json_field} is {_show(value)}"


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


def _show(value: Any) -> str:
    """A JSON value in a message: strings quoted, the rest as JSON (true, null, 1.5)."""
    if isinstance(value, str):
        return repr(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# -- tcp -----------------------------------------------------------------------------
async def _tcp(check: TcpCheck) -> tuple[bool, str]:
    where = _host_port(check.host, check.port)
    try:
        _reader, writer = await asyncio.open_connection(check.host, check.port)
    except OSError as exc:
        return False, _connect_failure(exc, check.host, check.port, f"TCP {where}")
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return True, f"connected to {where}"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _connect_failure(exc: BaseException, host: str, port: int, what: str) -> str:
    """A connection error in words, from the OS error at the root of the chain."""
    where = _host_port(host, port)
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


# -- process -------------------------------------------------------------------------
def count_processes(check: ProcessCheck) -> tuple[bool, str]:
    """Count the processes that match; zombies (exited, not yet reaped by their
    parent) never count. The dashboard's own process counts: "is the dashboard
    running" is a fair check (the shipped config makes it, with ``match = "self"``:
    by pid, so another dashboard on the host does not count)."""
    if check.match == "self":
        pid = os.getpid()
        if _running(pid):
            return True, f"this dashboard's process (pid {pid}) is running"
        return False, f"this dashboard's process (pid {pid}) is not running"
    by_cmdline = check.cmdline is not None
    rule = WatchRule(
        label="check",
        pattern=check.cmdline if check.cmdline is not None else check.name or "",
        match="cmdline" if by_cmdline else "name",
    )
    matched = [p.pid for p in default_reader()(by_cmdline) if rule.matches(p.name, p.cmdline)]
    count = sum(1 for pid in matched if _running(pid))
    how = f"cmdline {check.cmdline!r}" if by_cmdline else f"name {check.name!r}"
    if count == 0:
        found = f"no process matches {how}"
    else:
        found = f"{count} process{'es' if count != 1 else ''} match{'' if count != 1 else 'es'} {how}"
    if count >= check.min_count:
        return True, found
    return False, f"{found}, at least {check.min_count} needed"


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


# -- python --------------------------------------------------------------------------
@dataclass
class _Call:
    """One call of a component's python check, in a thread of its own."""

    started: float  # time.monotonic()
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    import_error: str | None = None


class _ImportFailed(Exception):
    pass


_calls: dict[str, _Call] = {}  # component name -> its newest call
_calls_lock = threading.Lock()
_functions: dict[str, Callable[[], Any]] = {}
_functions_lock = threading.Lock()

_STATES = {"healthy": ComponentState.HEALTHY, "degraded": ComponentState.DEGRADED, "down": ComponentState.DOWN}


def load_callable(spec: str) -> Callable[[], Any]:
    """Import ``module.path:function`` (once; later calls use the cached function)."""
    with _functions_lock:
        function = _functions.get(spec)
    if function is not None:
        return function
    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise _ImportFailed(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    found: object = getattr(module, name, None)
    if found is None:
        raise _ImportFailed(f"{module_name} has no function {name}")
    if not callable(found):
        raise _ImportFailed(f"{spec} is not callable (it is a {type(found).__name__})")
    with _functions_lock:
        _functions[spec] = found
    return found


def python_call_running(component_name: str) -> bool:
    """True while a call of this component's python check has not returned."""
    with _calls_lock:
        call = _calls.get(component_name)
    return call is not None and not call.done.is_set()


async def _python(key: str, check: PythonCheck, timeout: float) -> tuple[bool, ComponentState | None, str]:
    with _calls_lock:
        previous = _calls.get(key)
        if previous is not None and not previous.done.is_set():
            hung = time.monotonic() - previous.started
            return False, None, f"the previous call has not returned after {_seconds(hung)} s"
        call = _Call(started=time.monotonic())
        _calls[key] = call
    loop = asyncio.get_running_loop()
    returned: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not returned.done():
            returned.set_result(None)

    def work() -> None:
        try:
            call.value = load_callable(check.callable)()
        except _ImportFailed as exc:
            call.import_error = str(exc)
        except BaseException as exc:  # whatever it raises is the check's result
            call.error = exc
        finally:
            call.done.set()
            with suppress(RuntimeError):  # the loop has closed: nobody waits any more
                loop.call_soon_threadsafe(wake)

    threading.Thread(target=work, name=f"health-python-{key}", daemon=True).start()
    try:
        await asyncio.wait_for(returned, timeout)
    except TimeoutError:
        return False, None, f"timed out after {timeout:g} s"
    if call.import_error is not None:
        return False, None, call.import_error
    if call.error is not None:
        return False, None, f"{check.callable} raised {type(call.error).__name__}: {call.error}"
    return interpret_python_result(call.value, check.callable)


def interpret_python_result(value: Any, spec: str = "the check") -> tuple[bool, ComponentState | None, str]:
    """What a python check returned: ``(ok, reported state, message)``.

    ``True``/``False``; ``"healthy"``, ``"degraded"`` (ok, but degraded) or ``"down"``;
    or a pair of one of those and a message.
    """
    message = ""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        value, message = value
    if isinstance(value, bool):
        return value, None, message or f"{spec} returned {value}"
    if isinstance(value, str) and value.strip().lower() in _STATES:
        state = _STATES[value.strip().lower()]
        ok = state is not ComponentState.DOWN
        reported = None if state is ComponentState.HEALTHY else state
        return ok, reported, message or f"{spec} returned {state.value!r}"
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return (
        False,
        None,
        f"{spec} returned {shown}; expected True/False, 'healthy', 'degraded', 'down' or (state, message)",
    )


def _seconds(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _clip(message: str) -> str:
    message = " ".join(message.split()) if "\n" in message else message
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."
