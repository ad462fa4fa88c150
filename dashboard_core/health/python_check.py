"""A python check: ``module:function`` called in a thread of its own.

A thread cannot be killed, so while a call is hung no other call of that component's
check is started: the check reports the hung call instead of piling up threads. The
function is imported once and kept; what it returns is read by
:func:`interpret_python_result`.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from dashboard_core.config import PythonCheck
from dashboard_core.models import ComponentState


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


async def call_python(key: str, check: PythonCheck, timeout: float) -> tuple[bool, ComponentState | None, str]:
    """``(ok, reported state, message)`` of one call; ``key`` names the component (one call at a time)."""
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
