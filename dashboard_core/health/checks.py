"""Component checks: one check of one component, in words a person can read.

:func:`run_check` does a single check (http, tcp, process, command or python)
with the component's ``timeout_seconds`` as a hard limit and returns a
:class:`CheckReport`; a failed check is a result, never an exception.

Each kind has a module of its own; this one picks it, bounds it in time and
says what is checked for the component's card:

- http and tcp: :mod:`dashboard_core.health.network_check`;
- process: :mod:`dashboard_core.health.process_check`;
- command: an argv (never a shell), a supervised process:
  :mod:`dashboard_core.health.command_check`;
- python: ``module:function`` in a thread of its own:
  :mod:`dashboard_core.health.python_check`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx2 as httpx
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
from dashboard_core.health.network_check import check_http, check_tcp, host_port, show_json
from dashboard_core.health.process_check import count_processes
from dashboard_core.health.python_check import call_python
from dashboard_core.models import CheckResult, ComponentState
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.local import LocalExecutor

log = logging.getLogger(__name__)

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
                    ok, message = await asyncio.wait_for(check_http(check, base_url, own, timeout), timeout)
            else:
                ok, message = await asyncio.wait_for(check_http(check, base_url, client, timeout), timeout)
        elif isinstance(check, TcpCheck):
            ok, message = await asyncio.wait_for(check_tcp(check), timeout)
        elif isinstance(check, ProcessCheck):
            ok, message = await asyncio.wait_for(asyncio.to_thread(count_processes, check), timeout)
        elif isinstance(check, CommandCheck):
            ok, message = await run_command(check, timeout, config, executor or LOCAL)
        elif isinstance(check, PythonCheck):
            ok, reported, message = await call_python(component.name, check, timeout)
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
                f" with {check.json_field} = {show_json(check.json_value)}"
                if check.json_value is not None
                else f" with a field {check.json_field}"
            )
        return text
    if isinstance(check, TcpCheck):
        return f"TCP {host_port(check.host, check.port)}"
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


def _clip(message: str) -> str:
    message = " ".join(message.split()) if "\n" in message else message
    return message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."
