"""What each test costs, measured by the pytest plugin inside the process that runs it.

From the start of a test's setup to the end of its teardown: the process's CPU
seconds (user and system, all its threads: ``getrusage(RUSAGE_SELF)``, to the
microsecond; :func:`os.times`, to the clock tick, where there is no
``resource`` module), its wall time, the epoch second it
started, and the process's peak resident memory while the test ran. On Linux
the peak is exact for the test: the kernel's high-water mark is reset before
the setup (``5`` written to ``/proc/self/clear_refs``) and read after the
teardown (``VmHWM`` in ``/proc/self/status``). Where that cannot be done (not
Linux, or ``/proc`` refuses), ``ru_maxrss`` stands in: the process's peak over
its whole life so far, so a test after a hungry one reads as hungry too; the
figures say which (``peak_rss_source``). Without ``resource`` (Windows): no peak.

The figures ride on the teardown report as :data:`ATTRIBUTE` (a plain dict).
pytest-xdist sends a worker's report to the controller as the report's
``__dict__`` (pytest's ``_report_to_json``) and rebuilds it there with every
key as an attribute (``TestReport(**extra)``), so the controller's plugin reads
the worker's figures the same way it reads its own. Not ``user_properties``:
``--junitxml`` would write them into the suite's own XML.

Pure Python and pytest on purpose: this runs inside a suite's own interpreter.
Per test it costs a write and a read of a small ``/proc`` file and two
``getrusage`` calls, about 15 µs (``bench/runner_overhead.py``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest

ATTRIBUTE = "dashboard_resources"  # on a teardown report: the test's figures (see Meter.figures)
_STATUS, _CLEAR_REFS = "/proc/self/status", "/proc/self/clear_refs"


class _PeakMemory:
    """The process's peak resident memory since :meth:`reset`, in bytes."""

    def __init__(self) -> None:
        self.source: str | None = None  # "hwm" (exact per test), "maxrss" (lifetime peak) or None
        self._status = self._clear = -1
        try:
            self._status = os.open(_STATUS, os.O_RDONLY)
            self._clear = os.open(_CLEAR_REFS, os.O_WRONLY)
            os.write(self._clear, b"5")  # resets VmHWM (Linux 4.0+); refused in some sandboxes
            if self._hwm() is not None:
                self.source = "hwm"
        except OSError:
            pass
        if self.source is None:
            self.close()
            self.source = "maxrss" if _maxrss() is not None else None

    def reset(self) -> None:
        if self.source == "hwm":
            try:
                os.write(self._clear, b"5")
            except OSError:
                self.source = "maxrss" if _maxrss() is not None else None

    def peak(self) -> int | None:
        if self.source == "hwm":
            return self._hwm()
        return _maxrss() if self.source == "maxrss" else None

    def _hwm(self) -> int | None:
        try:
            data = os.pread(self._status, 4096, 0)
        except OSError:
            return None
        at = data.find(b"\nVmHWM:")
        if at < 0:
            return None
        end = data.find(b"\n", at + 1)
        fields = data[at + 7 : end if end > 0 else None].split()
        try:
            return int(fields[0]) * 1024  # "VmHWM:  123456 kB"
        except (IndexError, ValueError):
            return None

    def close(self) -> None:
        for fd in (self._status, self._clear):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._status = self._clear = -1


try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


def _maxrss() -> int | None:
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # bytes on macOS, KiB elsewhere


def _cpu() -> tuple[float, float]:
    """This process's user and system CPU seconds so far (all its threads)."""
    if resource is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime
    times = os.times()  # Windows: to the clock tick
    return times.user, times.system


class Meter:
    """A pytest plugin object: starts the count as a test's setup starts, and puts
    the figures on its teardown report."""

    def __init__(self) -> None:
        self.memory = _PeakMemory()
        self._started: dict[str, tuple[float, float, float, float]] = {}  # nodeid -> epoch, wall, user, system

    # Old-style wrappers (hookwrapper=True): a suite's own venv may have a pytest older than 8.
    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, None]:
        # Set again for each attempt (pytest-rerunfailures runs setup..teardown once per try).
        self.memory.reset()
        user, system = _cpu()
        self._started[item.nodeid] = (time.time(), time.perf_counter(), user, system)
        yield

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        if call.when != "teardown":
            yield
            return
        wall, (user, system), peak = time.perf_counter(), _cpu(), self.memory.peak()  # before the report is made
        outcome = yield
        started = self._started.pop(item.nodeid, None)
        if started is None or outcome.excinfo is not None:
            return
        epoch, wall0, user0, system0 = started
        took = figures(epoch, wall - wall0, user - user0, system - system0, peak, self.memory.source)
        setattr(outcome.get_result(), ATTRIBUTE, took)

    def close(self) -> None:
        self.memory.close()


def figures(
    start: float, wall: float, user: float, system: float, peak: int | None, source: str | None
) -> dict[str, Any]:
    """The dict a report carries (and the progress line's ``resources``)."""
    return {
        "start": start,
        "wall": max(0.0, wall),
        "cpu_user": max(0.0, user),
        "cpu_system": max(0.0, system),
        "peak_rss": peak,
        "peak_rss_source": source if peak is not None else None,
    }
